// The ffmpeg argv that pushes one live event: a test pattern or a file, encoded to the
// event's ladder and sent by ffmpeg's HLS muxer as fMP4 segments PUT to the ingest URL.
// Pure, so the exact command can be tested and printed without running anything.

// The ladder's one definition is the server's: the default, and what a rung may say.
import { DEFAULT_LADDER, type Rung } from "../../lib/live/ladder.ts";
export { DEFAULT_LADDER, type Rung };

export type LiveInput =
  | { kind: "test-pattern" }
  /** `hasAudio: false` (known from a probe) puts silence under the picture; the ladder's audio rungs still need a source. */
  | { kind: "file"; path: string; hasAudio?: boolean };

export type LiveFfmpegOptions = {
  /** Stop after this many seconds of output; without it a test pattern runs until interrupted. */
  durationSec?: number;
  segmentSec?: number;
  frameRate?: number;
};

// Rung names become URL path segments and var_stream_map tokens (split on space, "," and ":").
const RUNG_NAME = /^[A-Za-z0-9_-]+$/;

function check(ladder: readonly Rung[], baseUrl: string, options: { segmentSec: number; frameRate: number; durationSec?: number }): void {
  const seen = new Set<string>();
  for (const rung of ladder) {
    if (!RUNG_NAME.test(rung.name)) throw new RangeError(`rung name "${rung.name}" must be letters, digits, "-" or "_"`);
    if (seen.has(rung.name)) throw new RangeError(`rung name "${rung.name}" is used twice`);
    seen.add(rung.name);
    if (!(rung.bitrateKbps > 0)) throw new RangeError(`rung ${rung.name} needs a positive bitrate`);
    // libx264 cannot encode odd sizes in 4:2:0.
    if (rung.kind === "video" && !(rung.width > 0 && rung.height > 0 && rung.width % 2 === 0 && rung.height % 2 === 0)) {
      throw new RangeError(`rung ${rung.name} needs an even width and height, not ${rung.width}x${rung.height}`);
    }
  }
  if (!ladder.some((r) => r.kind === "video")) throw new RangeError("the ladder has no video rung");
  // The muxer reads "%" in its output names as a pattern (%v, %d): an encoded URL would be mangled.
  if (baseUrl.includes("%")) throw new RangeError(`the ingest URL must not contain "%": ${baseUrl}`);
  if (!(options.segmentSec > 0)) throw new RangeError("segmentSec must be positive");
  if (!(options.frameRate > 0)) throw new RangeError("frameRate must be positive");
  if (options.durationSec !== undefined && !(options.durationSec > 0)) throw new RangeError("durationSec must be positive");
}

export function liveFfmpegArgs(input: LiveInput, ladder: readonly Rung[], ingest: { baseUrl: string; token: string }, options: LiveFfmpegOptions = {}): string[] {
  const opts = { segmentSec: options.segmentSec ?? 2, frameRate: options.frameRate ?? 30, durationSec: options.durationSec };
  check(ladder, ingest.baseUrl, opts);
  const { segmentSec, frameRate } = opts;
  const video = ladder.filter((r) => r.kind === "video");
  const audio = ladder.filter((r) => r.kind === "audio");
  const baseUrl = ingest.baseUrl.endsWith("/") ? ingest.baseUrl : `${ingest.baseUrl}/`;
  // Every segment must start on a keyframe: a fixed GOP of exactly one segment.
  const gop = String(Math.round(frameRate * segmentSec));

  // Warnings only, but with the progress line: on a live push, "speed=1x" is the health check.
  const args = ["-hide_banner", "-nostdin", "-loglevel", "warning", "-stats"];
  let videoIn: string;
  let audioIn: string | null = null;
  let shortest = false;
  if (input.kind === "test-pattern") {
    // Generated at the top rung's size, so the largest rendition is not an upscale.
    const width = Math.max(...video.map((r) => r.width));
    const height = Math.max(...video.map((r) => r.height));
    args.push("-re", "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${frameRate}`);
    if (audio.length > 0) {
      args.push("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000");
      audioIn = "1:a";
    }
    videoIn = "[0:v]";
  } else {
    args.push("-re", "-i", input.path);
    videoIn = "[0:v:0]";
    if (audio.length > 0 && input.hasAudio === false) {
      // The ladder promises audio; silence keeps the audio renditions (and players) alive.
      args.push("-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo");
      audioIn = "1:a";
      shortest = true; // anullsrc never ends
    } else if (audio.length > 0) {
      audioIn = "0:a:0?";
    }
  }

  // A file may have any shape: letterbox it into each rung rather than stretch it.
  const fit = (r: { width: number; height: number }) =>
    input.kind === "file"
      ? `scale=${r.width}:${r.height}:force_original_aspect_ratio=decrease,pad=${r.width}:${r.height}:(ow-iw)/2:(oh-ih)/2,setsar=1`
      : `scale=${r.width}:${r.height}`;
  const filter =
    video.length === 1
      ? `${videoIn}${fit(video[0]!)}[v0]`
      : `${videoIn}split=${video.length}${video.map((_, i) => `[s${i}]`).join("")};` + video.map((r, i) => `[s${i}]${fit(r)}[v${i}]`).join(";");
  args.push("-filter_complex", filter);
  video.forEach((_, i) => args.push("-map", `[v${i}]`));
  if (audioIn) audio.forEach(() => args.push("-map", audioIn));

  args.push(
    "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
    "-r", String(frameRate), "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
    // A source whose timestamps drift from the nominal rate would otherwise miss segment boundaries.
    "-force_key_frames", `expr:gte(t,n_forced*${segmentSec})`,
  );
  video.forEach((r, i) => {
    // A ceiling as well as a target, so a busy scene cannot overshoot what the ladder advertises.
    args.push(`-b:v:${i}`, `${r.bitrateKbps}k`, `-maxrate:v:${i}`, `${r.bitrateKbps}k`, `-bufsize:v:${i}`, `${r.bitrateKbps * 2}k`);
  });
  if (audioIn) {
    args.push("-c:a", "aac", "-ac", "2");
    audio.forEach((r, i) => args.push(`-b:a:${i}`, `${r.bitrateKbps}k`));
  }
  if (shortest) args.push("-shortest");
  if (opts.durationSec !== undefined) args.push("-t", String(opts.durationSec));

  // Audio first, as the server expects; every video rendition refers to the same audio group.
  const group = audioIn ? ",agroup:aud" : "";
  const streamMap = [
    ...(audioIn ? audio.map((r, i) => `a:${i}${group},name:${r.name}`) : []),
    ...video.map((r, i) => `v:${i}${group},name:${r.name}`),
  ].join(" ");

  args.push(
    "-f", "hls", "-hls_time", String(segmentSec), "-hls_list_size", "6",
    "-hls_segment_type", "fmp4", "-hls_flags", "program_date_time+independent_segments",
    "-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", `${baseUrl}%v/%d.m4s`,
    "-var_stream_map", streamMap, "-master_pl_name", "master.m3u8",
    "-method", "PUT", "-http_persistent", "1",
    // ffmpeg warns on every request about a header block without its closing CRLF.
    "-headers", `Authorization: Bearer ${ingest.token}\r\n`,
    `${baseUrl}%v/index.m3u8`,
  );
  return args;
}

const PLAIN = /^[A-Za-z0-9_\-+=.,/:@%^]+$/;

function quote(arg: string): string {
  if (PLAIN.test(arg)) return arg;
  // Control characters (the header's CRLF) cannot be pasted inside '…': use ANSI-C $'…'.
  if (/[\x00-\x1f\x7f]/.test(arg)) {
    const escaped = arg.replace(/[\\'\x00-\x1f\x7f]/g, (c) => {
      const named: Record<string, string> = { "\\": "\\\\", "'": "\\'", "\r": "\\r", "\n": "\\n", "\t": "\\t" };
      return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
    });
    return `$'${escaped}'`;
  }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command to paste into bash or zsh; the token is shown as given, so treat the output as a secret. */
export function formatCommand(args: readonly string[], program = "ffmpeg"): string {
  return [program, ...args].map(quote).join(" ");
}
