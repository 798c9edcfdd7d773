// Packages one title into the R2 layout of DESIGN.md §4: probe, measure, encode the ladder, verify, index.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  assetIdSchema,
  renditionIndexSchema,
  type AudioTrack,
  type RenditionIndex,
  type VideoRendition,
} from "../../lib/media-index.ts";
import { WORK_DIR_NAME, listFiles, requireReplaceableDir } from "./asset-files.ts";
import { measureComplexity, type Complexity } from "./complexity.ts";
import {
  AUDIO_SAMPLE_RATE,
  MPD_NAME,
  defaultJobs,
  planGroups,
  runGroup,
  type EncodeGroup,
  type EncodeSettings,
} from "./encode.ts";
import { IngestInputError } from "./errors.ts";
import { ToolError, requireFfmpeg } from "./ffmpeg.ts";
import { chooseLadder, type Rung } from "./ladder.ts";
import { parseMpd, representation } from "./mpd.ts";
import type { SourceInfo } from "./probe.ts";
import { openSource, type MediaSource, type PackageInput } from "./source.ts";
import { loadSubtitles, writeSubtitles, type LoadedSubtitle, type SubtitleInput } from "./subtitle-files.ts";
import { spriteLayout, thumbnailsVtt, type SpriteLayout } from "./thumbnails.ts";
import {
  DEFAULT_SEGMENT_PLAN,
  audioSampleCount,
  frameCount,
  keyframePlan,
  outputFrameRate,
  type FrameRate,
  type KeyframePlan,
  type SegmentPlan,
} from "./timing.ts";
import { audioTrack, moveTrack, videoRendition } from "./tracks.ts";
import { checkDecodes, checkSegmentation, videoFrames } from "./verify.ts";

export type { FileInput, LavfiInput, PackageInput } from "./source.ts";
export type { SubtitleInput } from "./subtitle-files.ts";

export type PackageProgress = {
  /** "thumbnails" is everything after the encode: sprite cues, checks, subtitles, hashing. */
  phase: "probe" | "complexity" | "encode" | "thumbnails";
  fraction: number;
  etaSec?: number;
};

export type PackageRequest = {
  input: PackageInput;
  assetId: string;
  /** Written directly (deleted and recreated): becomes `assets/{assetId}/` as is. */
  outDir: string;
  /** A fixed ladder (the demo); otherwise chosen from the source and its measured complexity. */
  ladder?: Rung[];
  /** Target segment length after the start-up segments (default 4 s). */
  segmentSec?: number;
  /** Length and count of the shorter first segments (default 2 x 2 s). */
  startupSegmentSec?: number;
  startupSegments?: number;
  subtitles?: SubtitleInput[];
  /** The audio track's label (default: the source's language tag) and AAC bitrate (default 128). */
  audio?: { lang?: string; name?: string; kbps?: number };
  /** x264 preset (default `medium`): encode speed against size at equal quality. */
  preset?: string;
  /** ffmpeg processes side by side (default: CPUs, at most one per rendition); never changes the output. */
  jobs?: number;
  onProgress?: (progress: PackageProgress) => void;
};

export type PackageReport = {
  source: SourceInfo;
  /** null when the ladder was given. */
  complexity: Complexity | null;
  ladder: Rung[];
  frameRate: number;
  jobs: number;
  /** Wall time of the ladder encode alone, and of the whole packaging. */
  encodeSec: number;
  totalSec: number;
  /** Source seconds per second of encode wall time. */
  realtimeFactor: number;
  /** Non-fatal complaints ffmpeg printed about the input (decode glitches it concealed). */
  warnings: string[];
};

export type PackageResult = { index: RenditionIndex; dir: string; report: PackageReport };

const DEFAULT_AUDIO_KBPS = 128;
const DEFAULT_PRESET = "medium";
export const X264_PRESETS = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"];
/** A tenth in, past the black or the logo most titles open with. */
const POSTER_AT = 0.1;
/** Largest poster short side: a still for a page, not for a 4K screen. */
const POSTER_MAX_SHORT_SIDE = 720;
/** What ffmpeg says when it is the input it cannot read or decode (as opposed to a bad command). */
const INPUT_ERROR_PATTERN = /partial file|Invalid data found|corrupt|Error while decoding|error reading/i;

export async function packageAsset(request: PackageRequest): Promise<PackageResult> {
  const startedAt = performance.now();
  requireFfmpeg();
  const report = progressReporter(request.onProgress);
  validateOptions(request);
  const subtitles = await loadSubtitles(request.subtitles ?? []);
  report("probe", 0);
  const source = await openSource(request.input);
  report("probe", 1);

  const dir = path.resolve(request.outDir);
  await requireReplaceableDir(dir);
  await rm(dir, { recursive: true, force: true });
  const work = path.join(dir, WORK_DIR_NAME);
  await mkdir(work, { recursive: true });
  try {
    return await packageInto(dir, work, source, subtitles, request, report, startedAt);
  } catch (error) {
    // A broken set never gets an index.json, so it can never be uploaded or seeded.
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function packageInto(
  dir: string,
  work: string,
  source: MediaSource,
  subtitles: LoadedSubtitle[],
  request: PackageRequest,
  report: Reporter,
  startedAt: number,
): Promise<PackageResult> {
  const fps = outputFrameRate(source.info);
  const frames = frameCount(source.info.durationSec, fps);
  const complexity = request.ladder
    ? null
    : await measureComplexity(source, fps, work, (f) => report("complexity", f)).catch((error: unknown) => {
        throw inputFailure(error, request.input);
      });
  if (complexity && complexity.sampledSec === 0) throw corrupt(request.input);
  const ladder = request.ladder ?? chooseLadder(source.info, complexity!.factor);
  const segments = segmentPlan(request);
  const keyframes = keyframePlan(frames, fps, segments);
  const durationSec = frames / fps.value;
  const sprite = spriteLayout(ladder.at(-1)!, durationSec);
  const settings = encodeSettings(dir, source, fps, frames, keyframes, ladder, sprite, request);
  await mkdir(path.join(dir, "thumbs"));

  const jobs = request.jobs ?? defaultJobs(ladder.length);
  const groups = planGroups(ladder, jobs, work);
  const encodeStart = performance.now();
  const stderr = await encodeAll(groups, settings, request.input, (f, etaSec) => report("encode", f, etaSec));
  const encodeSec = (performance.now() - encodeStart) / 1000;

  report("thumbnails", 0);
  const { video, audio } = await collectTracks(groups, dir, ladder, settings, source, request);
  // The encode pads a missing end by at most 1 s, so a file cut short comes out short; an
  // mp4 whose index outlives its data also makes the demuxer say "partial file".
  if (video.some((v) => videoFrames(v, fps) < frames) || /partial file/i.test(stderr)) throw corrupt(request.input);
  checkSegmentation(video, audio, keyframes, fps);
  await checkDecodes({ video, audio }, dir, fps);
  await writeFile(path.join(dir, "thumbs/thumbs.vtt"), thumbnailsVtt(sprite, durationSec, "sprite.jpg"));
  const subtitleTracks = await writeSubtitles(dir, subtitles);
  await rm(work, { recursive: true, force: true });
  report("thumbnails", 1);

  const index = renditionIndexSchema.parse({
    version: 1,
    assetId: request.assetId,
    durationSec: longestTrackSec([...video, ...audio]),
    segmentDurationSec: segments.segmentSec,
    video,
    audio,
    subtitles: subtitleTracks,
    thumbnails: { sprite: "thumbs/sprite.jpg", vtt: "thumbs/thumbs.vtt", width: sprite.width, height: sprite.height, intervalSec: sprite.intervalSec },
    poster: "poster.jpg",
    files: await listFiles(dir),
  } satisfies RenditionIndex);
  await writeFile(path.join(dir, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
  return {
    index,
    dir,
    report: {
      source: source.info,
      complexity,
      ladder,
      frameRate: fps.value,
      jobs: groups.length,
      encodeSec,
      totalSec: (performance.now() - startedAt) / 1000,
      realtimeFactor: source.info.durationSec / encodeSec,
      warnings: warningsOf(stderr),
    },
  };
}

/** Start-up segments are never longer than the rest: `segmentSec: 2` means 2 s throughout. */
function segmentPlan(request: PackageRequest): SegmentPlan {
  const segmentSec = request.segmentSec ?? DEFAULT_SEGMENT_PLAN.segmentSec;
  return {
    ...DEFAULT_SEGMENT_PLAN,
    segmentSec,
    startupSegmentSec: Math.min(segmentSec, request.startupSegmentSec ?? DEFAULT_SEGMENT_PLAN.startupSegmentSec),
    startupSegments: request.startupSegments ?? DEFAULT_SEGMENT_PLAN.startupSegments,
  };
}

function validateOptions(request: PackageRequest): void {
  const durations = [request.segmentSec, request.startupSegmentSec].filter((d) => d !== undefined);
  if (durations.some((d) => !(d > 0 && d <= 60))) throw new IngestInputError("segment durations must be between 0 and 60 s", "INVALID_OPTIONS");
  const startups = request.startupSegments;
  if (startups !== undefined && !(Number.isInteger(startups) && startups >= 0)) {
    throw new IngestInputError("the number of start-up segments must be a whole number", "INVALID_OPTIONS");
  }
  if (request.preset !== undefined && !X264_PRESETS.includes(request.preset)) {
    throw new IngestInputError(`x264 preset "${request.preset}" is not one of ${X264_PRESETS.join(", ")}`, "INVALID_OPTIONS");
  }
  if (!assetIdSchema.safeParse(request.assetId).success) {
    throw new IngestInputError(`asset id "${request.assetId}" must be 2-64 lowercase letters, digits and inner dashes`, "INVALID_OPTIONS");
  }
  const langs = (request.subtitles ?? []).map((s) => s.lang);
  const bad = langs.find((lang) => !/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(lang));
  if (bad !== undefined) throw new IngestInputError(`subtitle language "${bad}" is not a BCP 47 tag`, "INVALID_OPTIONS");
  const duplicate = langs.find((lang, i) => langs.findIndex((l) => l.toLowerCase() === lang.toLowerCase()) !== i);
  if (duplicate !== undefined) throw new IngestInputError(`two subtitle files for language "${duplicate}"`, "INVALID_OPTIONS");
  if (request.ladder?.length === 0) throw new IngestInputError("the ladder has no rungs", "INVALID_OPTIONS");
}

function encodeSettings(
  dir: string,
  source: MediaSource,
  fps: FrameRate,
  frames: number,
  keyframes: KeyframePlan,
  ladder: Rung[],
  sprite: SpriteLayout,
  request: PackageRequest,
): EncodeSettings {
  const posterRung = ladder.filter((r) => Math.min(r.width, r.height) <= POSTER_MAX_SHORT_SIDE).at(-1) ?? ladder[0]!;
  return {
    source,
    fps,
    frames,
    keyframes,
    preset: request.preset ?? DEFAULT_PRESET,
    audio: source.info.hasAudio
      ? { kbps: request.audio?.kbps ?? DEFAULT_AUDIO_KBPS, samples: audioSampleCount(frames, fps, AUDIO_SAMPLE_RATE) }
      : null,
    sprite: { layout: sprite, file: path.join(dir, "thumbs/sprite.jpg") },
    poster: {
      width: posterRung.width,
      height: posterRung.height,
      frame: Math.floor(frames * POSTER_AT),
      file: path.join(dir, "poster.jpg"),
    },
  };
}

/** All runs at once; the first failure stops the others. Returns their combined stderr. */
async function encodeAll(
  groups: EncodeGroup[],
  settings: EncodeSettings,
  input: PackageInput,
  onFraction: (fraction: number, etaSec?: number) => void,
): Promise<string> {
  await Promise.all(groups.map((g) => mkdir(g.workDir, { recursive: true })));
  const controller = new AbortController();
  const reached = groups.map(() => 0);
  const startedAt = performance.now();
  const durationSec = settings.frames / settings.fps.value;
  const results = await Promise.allSettled(
    groups.map((group, i) =>
      runGroup(group, settings, (sec) => {
        reached[i] = Math.min(1, sec / durationSec);
        const fraction = reached.reduce((sum, r) => sum + r, 0) / groups.length;
        const elapsed = (performance.now() - startedAt) / 1000;
        onFraction(fraction, fraction > 0.02 ? (elapsed * (1 - fraction)) / fraction : undefined);
      }, controller.signal).catch((error: unknown) => {
        controller.abort();
        throw error;
      }),
    ),
  );
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected" && !isAbort(r.reason));
  if (failure) throw inputFailure(failure.reason, input);
  onFraction(1, 0);
  return results.map((r) => (r.status === "fulfilled" ? r.value.stderr : "")).join("");
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** An ffmpeg failure is the input's fault when ffmpeg says it could not read or decode it. */
function inputFailure(error: unknown, input: PackageInput): unknown {
  if (input.kind === "file" && error instanceof ToolError && INPUT_ERROR_PATTERN.test(error.stderr)) return corrupt(input);
  return error;
}

function corrupt(input: PackageInput): Error {
  if (input.kind !== "file") return new Error("the generated source could not be encoded");
  return new IngestInputError(`${input.path} is truncated or corrupt`, "CORRUPT");
}

/** Moves every run's flat dash output into track folders and describes the tracks, lowest rendition first. */
async function collectTracks(
  groups: EncodeGroup[],
  dir: string,
  ladder: Rung[],
  settings: EncodeSettings,
  source: MediaSource,
  request: PackageRequest,
): Promise<{ video: VideoRendition[]; audio: AudioTrack[] }> {
  const video: VideoRendition[] = Array.from({ length: ladder.length });
  const audio: AudioTrack[] = [];
  for (const group of groups) {
    const mpd = parseMpd(await readFile(path.join(group.workDir, MPD_NAME), "utf8"));
    for (const [i, { rung, ladderIndex }] of group.rungs.entries()) {
      video[ladderIndex] = await videoRendition(await moveTrack(group.workDir, i, dir, rung.id), representation(mpd, i));
    }
    if (group.extras && settings.audio) {
      const label = audioLabel(source.info, request.audio);
      const files = await moveTrack(group.workDir, group.rungs.length, dir, `audio-${label.lang.toLowerCase()}`);
      audio.push(await audioTrack(files, representation(mpd, group.rungs.length), label));
    }
  }
  return { video, audio };
}

/** The given label, else the source's language tag (`eng` becomes `en`, English), else "und". */
function audioLabel(info: SourceInfo, given: PackageRequest["audio"]): { lang: string; name: string } {
  const lang = canonicalLanguage(given?.lang ?? info.audio?.language ?? "und");
  if (given?.name) return { lang, name: given.name };
  const name = lang === "und" ? null : new Intl.DisplayNames(["en"], { type: "language" }).of(lang);
  return { lang, name: name && name !== lang ? name : "Original" };
}

function canonicalLanguage(tag: string): string {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? "und";
  } catch {
    return "und";
  }
}

/** The longest track, to the millisecond: video runs whole frames, audio stops at a whole AAC frame. */
function longestTrackSec(tracks: { segments: { durations: number[]; timescale: number } }[]): number {
  const totals = tracks.map((t) => t.segments.durations.reduce((sum, d) => sum + d, 0) / t.segments.timescale);
  return Math.round(Math.max(...totals) * 1000) / 1000;
}

type Reporter = (phase: PackageProgress["phase"], fraction: number, etaSec?: number) => void;

function progressReporter(onProgress: PackageRequest["onProgress"]): Reporter {
  return (phase, fraction, etaSec) => {
    if (!onProgress) return;
    const rounded = Math.round(fraction * 1000) / 1000;
    onProgress(etaSec === undefined ? { phase, fraction: rounded } : { phase, fraction: rounded, etaSec: Math.round(etaSec) });
  };
}

/** ffmpeg's distinct complaints, a handful at most: enough to tell a user what it concealed. */
function warningsOf(stderr: string): string[] {
  const lines = stderr.split("\n").map((line) => line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, "").trim());
  return [...new Set(lines.filter((line) => line !== ""))].slice(0, 20);
}
