// Builds and runs the ffmpeg commands that encode the ladder into CMAF segments (plus sprite and poster).
import { availableParallelism } from "node:os";
import path from "node:path";
import { BITEXACT, ffmpeg } from "./ffmpeg.ts";
import type { Rung } from "./ladder.ts";
import { spriteFilter, type SpriteLayout } from "./thumbnails.ts";
import type { FrameRate, KeyframePlan } from "./timing.ts";
import { withGraph, type MediaSource } from "./source.ts";

export const AUDIO_SAMPLE_RATE = 48_000;
export const AUDIO_CHANNELS = 2;

/** What every ffmpeg run of one packaging shares. */
export type EncodeSettings = {
  source: MediaSource;
  fps: FrameRate;
  /** Exact length of every rendition, in frames. */
  frames: number;
  keyframes: KeyframePlan;
  /** x264 preset: the speed/size trade-off at a given quality. */
  preset: string;
  /** null for a source without sound. */
  audio: { kbps: number; samples: number } | null;
  sprite: { layout: SpriteLayout; file: string } | null;
  poster: { width: number; height: number; frame: number; file: string } | null;
};

/**
 * The renditions one ffmpeg process encodes. Each run is single-threaded for x264 (the only
 * way its output is byte-identical), so several run side by side; a rendition's bytes do
 * not depend on which run it is in. The audio, sprite and poster ride with one of them:
 * audio needs a video stream in its run, because the dash muxer cuts audio when video cuts.
 */
export type EncodeGroup = {
  rungs: { rung: Rung; ladderIndex: number }[];
  extras: boolean;
  workDir: string;
};

/** Dash muxer output names; ffmpeg 5.1 does not create folders for them, so they land flat. */
export const INIT_NAME = "init-$RepresentationID$.m4s";
export const MEDIA_NAME = "chunk-$RepresentationID$-$Number$.m4s";
export const MPD_NAME = "manifest.mpd";

/**
 * An audio adaptation set's own segment clock, far beyond any segment: audio is then cut
 * only when video is (at the first AAC frame at or after each video cut), so it has as many
 * segments as video and no sliver at the end.
 */
const AUDIO_SEG_DURATION_SEC = 1000;

export function defaultJobs(rungs: number): number {
  return Math.max(1, Math.min(availableParallelism(), rungs));
}

/** Balances pixel rate across `jobs` runs, biggest rendition first; the extras go to the lightest run. */
export function planGroups(ladder: Rung[], jobs: number, workRoot: string): EncodeGroup[] {
  const count = Math.max(1, Math.min(jobs, ladder.length));
  const groups = Array.from({ length: count }, (_, i) => ({
    rungs: [] as EncodeGroup["rungs"],
    extras: false,
    workDir: path.join(workRoot, `run-${i}`),
    load: 0,
  }));
  const biggestFirst = ladder.map((rung, ladderIndex) => ({ rung, ladderIndex })).sort((a, b) => area(b.rung) - area(a.rung));
  for (const entry of biggestFirst) {
    const lightest = groups.reduce((best, g) => (g.load < best.load ? g : best));
    lightest.rungs.push(entry);
    lightest.load += area(entry.rung);
  }
  groups.reduce((best, g) => (g.load < best.load ? g : best)).extras = true;
  return groups.map(({ rungs, extras, workDir }) => ({
    rungs: rungs.sort((a, b) => a.ladderIndex - b.ladderIndex),
    extras,
    workDir,
  }));
}

function area(rung: Rung): number {
  return rung.width * rung.height;
}

export async function runGroup(
  group: EncodeGroup,
  settings: EncodeSettings,
  onOutTime: (sec: number) => void,
  signal: AbortSignal,
): Promise<{ stderr: string }> {
  return ffmpeg(encodeArgs(group, settings), { onOutTime, signal });
}

export function encodeArgs(group: EncodeGroup, settings: EncodeSettings): string[] {
  const withAudio = group.extras && settings.audio !== null;
  return [
    "-y",
    ...settings.source.inputArgs(),
    "-filter_complex", filterGraph(group, settings),
    ...group.rungs.flatMap((_, i) => ["-map", `[v${i}]`]),
    ...(withAudio ? ["-map", "[a]"] : []),
    ...videoCodecArgs(group, settings),
    ...(withAudio ? audioCodecArgs(settings.audio!.kbps) : []),
    // The filters already made the frames constant-rate; cfr has ffmpeg keep them so.
    "-fps_mode", "cfr",
    ...BITEXACT,
    ...dashArgs(settings, withAudio),
    path.join(group.workDir, MPD_NAME),
    ...(group.extras ? pictureOutputs(settings) : []),
  ];
}

/**
 * One decode feeds every output. The picture is padded by cloning its last frame for at
 * most 1 s, made constant-rate from t=0 (fps with start_time duplicates or drops to fill the
 * grid) and cut to exactly `frames`: a rendition is never short for rounding, yet a source
 * missing more than that (a truncated file) comes out short and is refused. The pad goes
 * first because fps drops a last frame that arrives without a duration (as overlay's do).
 */
function filterGraph(group: EncodeGroup, settings: EncodeSettings): string {
  const { source, fps, frames } = settings;
  const branches = group.rungs.map((_, i) => `[s${i}]`);
  if (group.extras && settings.sprite) branches.push("[ssprite]");
  if (group.extras && settings.poster) branches.push("[sposter]");
  const chains = [
    `${source.videoPad}tpad=stop_mode=clone:stop_duration=1,fps=${fps.num}/${fps.den}:start_time=0,` +
      `trim=end_frame=${frames},split=${branches.length}${branches.join("")}`,
    // Explicit sizes keep the display aspect through each rendition's sample aspect ratio;
    // setsar=1 here would make the dash muxer fail on conflicting aspect ratios.
    ...group.rungs.map(({ rung }, i) => `[s${i}]scale=${rung.width}:${rung.height}[v${i}]`),
  ];
  if (group.extras && settings.sprite) chains.push(`[ssprite]${spriteFilter(settings.sprite.layout)},setsar=1[sprite]`);
  if (group.extras && settings.poster) {
    const { frame, width, height } = settings.poster;
    chains.push(`[sposter]select='eq(n,${frame})',scale=${width}:${height},setsar=1[poster]`);
  }
  if (group.extras && settings.audio && source.audioPad) {
    // Starts at 0 like the picture (silence fills a late start, gaps over 0.1 s too), stereo
    // at 48 kHz, padded with silence then cut to whole AAC frames ending with the video.
    chains.push(
      `${source.audioPad}aresample=${AUDIO_SAMPLE_RATE}:async=1:first_pts=0,` +
        `aformat=sample_fmts=fltp:sample_rates=${AUDIO_SAMPLE_RATE}:channel_layouts=stereo,` +
        `apad,atrim=end_sample=${settings.audio.samples}[a]`,
    );
  } else if (source.audioPad && source.padsFromGraph) {
    chains.push(`${source.audioPad}anullsink`);
  }
  return withGraph(source, chains);
}

function videoCodecArgs(group: EncodeGroup, settings: EncodeSettings): string[] {
  return [
    "-c:v", "libx264", "-preset", settings.preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
    // No B-frames: their reorder delay makes video dts run two frames early, and audio is cut
    // by video packets, so every audio segment would end short of its video segment.
    "-bf", "0",
    // Every keyframe is forced at a segment start; x264 must add none of its own (at a gap
    // of exactly keyint its own would fall on the forced one).
    "-g", String(settings.keyframes.longestSegmentFrames),
    "-keyint_min", String(settings.keyframes.longestSegmentFrames),
    "-sc_threshold", "0",
    "-force_key_frames", settings.keyframes.forceKeyFrames,
    ...group.rungs.flatMap(({ rung }, i) => [
      `-b:v:${i}`, `${rung.kbps}k`,
      `-maxrate:v:${i}`, `${rung.maxrateKbps}k`,
      `-bufsize:v:${i}`, `${rung.bufsizeKbps}k`,
    ]),
  ];
}

function audioCodecArgs(kbps: number): string[] {
  return ["-c:a", "aac", "-b:a", `${kbps}k`, "-ar", String(AUDIO_SAMPLE_RATE), "-ac", String(AUDIO_CHANNELS)];
}

/**
 * The video adaptation set's segment clock is just under the shortest planned segment, so
 * the muxer (which cuts at the first keyframe at least that long after the last cut) cuts at
 * every forced keyframe and nowhere else.
 */
function dashArgs(settings: EncodeSettings, withAudio: boolean): string[] {
  const starts = settings.keyframes.segmentStarts;
  const gaps = starts.slice(1).map((start, i) => start - starts[i]!);
  const shortestFrames = gaps.length > 0 ? Math.min(...gaps) : settings.frames;
  const segDuration = Math.max(0.001, (shortestFrames - 0.5) / settings.fps.value);
  const sets = ["id=0,streams=v", ...(withAudio ? [`id=1,seg_duration=${AUDIO_SEG_DURATION_SEC},streams=a`] : [])];
  return [
    "-f", "dash", "-dash_segment_type", "mp4",
    "-seg_duration", segDuration.toFixed(6),
    "-use_template", "1", "-use_timeline", "1",
    "-adaptation_sets", sets.join(" "),
    "-init_seg_name", INIT_NAME,
    "-media_seg_name", MEDIA_NAME,
  ];
}

function pictureOutputs(settings: EncodeSettings): string[] {
  const sprite = settings.sprite ? ["-map", "[sprite]", "-frames:v", "1", "-q:v", "4", ...BITEXACT, settings.sprite.file] : [];
  const poster = settings.poster ? ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", ...BITEXACT, settings.poster.file] : [];
  return [...sprite, ...poster];
}
