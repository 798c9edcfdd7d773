// What skip-segment detection keeps of one episode (lib/skip-segments.ts EpisodeAnalysis):
// audio fingerprints of its head and tail, and the dark spans and shot changes of its
// tail, computed once from the source file so a season can be detected again later
// (detect-season.ts) from stored analyses alone.
//
// The head is the first third (at most 20 minutes): intros and recaps live there. The tail
// is the last 10 minutes but never reaches back into the head, so a short episode's head
// and tail together cover all of it (a recap can then be traced to any part of the
// previous episode) and nothing is fingerprinted twice. The three ffmpeg passes (head audio,
// tail audio, tail picture) run side by side: each is one decoder thread plus light work.
import { SKIP_ANALYSIS_LIMITS, encodeFingerprint, episodeAnalysisSchema, type EpisodeAnalysis } from "../../../lib/skip-segments.ts";
import { assetIdSchema } from "../../../lib/media-index.ts";
import { probeSource } from "../probe.ts";
import { fingerprintRange, pickAlgorithm, type Fingerprint } from "./fingerprint.ts";
import { PICTURE_FPS, PictureLogTooLong, analyzePicture, type PictureAnalysis } from "./picture.ts";
import { FINGERPRINT_PROFILES, type FingerprintAlgorithm } from "./profiles.ts";

export type AnalyzeOptions = {
  assetId: string;
  /** 0..1, rising. */
  onProgress?: (fraction: number) => void;
  /** Use the marquee-pcm fingerprint even when ffmpeg has chromaprint. */
  forceFallback?: boolean;
  /** Told when a pass gave nothing usable (the analysis then goes on without it). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
};

export type AnalysisRanges = { head: { startSec: number; durationSec: number }; tail: { startSec: number; durationSec: number } };

/** Where the head and tail of an episode of `durationSec` lie (see the top of this file). */
export function analysisRanges(durationSec: number): AnalysisRanges {
  const headSec = round(Math.min(durationSec / 3, SKIP_ANALYSIS_LIMITS.headSec));
  const tailStart = round(Math.max(headSec, durationSec - SKIP_ANALYSIS_LIMITS.tailSec));
  return { head: { startSec: 0, durationSec: headSec }, tail: { startSec: tailStart, durationSec: round(durationSec - tailStart) } };
}

export async function analyzeEpisode(file: string, opts: AnalyzeOptions): Promise<EpisodeAnalysis> {
  // Before minutes of decoding, not after.
  assetIdSchema.parse(opts.assetId);
  const info = await probeSource(file);
  const durationSec = info.durationSec;
  const { head, tail } = analysisRanges(durationSec);
  const algorithm = await pickAlgorithm(opts.forceFallback);
  // Decoding the picture costs about twice what decoding the sound does: it weighs double.
  const progress = progressOf([head.durationSec, tail.durationSec, 2 * tail.durationSec], opts.onProgress);
  const signal = opts.signal ? { signal: opts.signal } : {};
  const audio = info.audio;
  const fingerprint = (range: typeof head, pass: number): Promise<Fingerprint> =>
    audio && range.durationSec > 0
      ? fingerprintRange(file, { ...range, algorithm, streamIndex: audio.streamIndex, onOutTime: (s) => progress(pass, s), ...signal })
      : Promise.resolve(emptyFingerprint(algorithm, range.startSec));
  const [headPrint, tailPrint, picture] = await Promise.all([
    fingerprint(head, 0),
    fingerprint(tail, 1),
    tail.durationSec > 0
      ? analyzePicture(file, { ...tail, streamIndex: info.videoStreamIndex, onOutTime: (s) => progress(2, 2 * s), ...signal }).catch((err: unknown) => {
          // Credits can still be found from the sound; a cancellation or a missing ffmpeg is not this.
          if (!(err instanceof PictureLogTooLong)) throw err;
          opts.onWarning?.(`${file}: ${err.message}; credits will be looked for in the sound only`);
          return NO_PICTURE;
        })
      : Promise.resolve(NO_PICTURE),
  ]);
  progress(3, 0);
  return episodeAnalysisSchema.parse({
    version: 1,
    assetId: opts.assetId,
    durationSec,
    fingerprint: {
      algorithm,
      itemSec: FINGERPRINT_PROFILES[algorithm].itemSec,
      head: wire(headPrint),
      tail: wire(tailPrint),
    },
    ...bounded(picture, durationSec),
  });
}

const NO_PICTURE: PictureAnalysis = { darkSpans: [], sceneChanges: [] };

function emptyFingerprint(algorithm: FingerprintAlgorithm, startSec: number): Fingerprint {
  return { algorithm, itemSec: FINGERPRINT_PROFILES[algorithm].itemSec, startSec, items: new Uint32Array(0) };
}

function wire(print: Fingerprint): { startSec: number; data: string } {
  return { startSec: round(print.startSec), data: encodeFingerprint(print.items.subarray(0, SKIP_ANALYSIS_LIMITS.maxItems)) };
}

/**
 * The schema's bounds, keeping the latest spans (credits are at the end). blackdetect ends
 * a span that runs to the end of the input at its last frame's time: such a span is taken
 * to the end of the episode.
 */
function bounded(picture: PictureAnalysis, durationSec: number): PictureAnalysis {
  const end = round(durationSec);
  const reachesEnd = durationSec - 2 / PICTURE_FPS - 0.05;
  const darkSpans = picture.darkSpans
    .map((s) => (s.endSec >= reachesEnd ? { startSec: s.startSec, endSec: end } : s))
    .filter((s) => s.startSec < s.endSec && s.endSec <= end);
  return {
    darkSpans: darkSpans.slice(-SKIP_ANALYSIS_LIMITS.maxDarkSpans),
    sceneChanges: picture.sceneChanges.filter((t) => t <= durationSec).slice(-SKIP_ANALYSIS_LIMITS.maxDarkSpans),
  };
}

/** A progress callback over passes of known length: pass `i` reports seconds done; pass `length` means all done. */
function progressOf(lengths: number[], onProgress?: (fraction: number) => void): (pass: number, seconds: number) => void {
  const done = lengths.map(() => 0);
  const total = lengths.reduce((a, b) => a + b, 0) || 1;
  let last = 0;
  return (pass, seconds) => {
    if (!onProgress) return;
    if (pass >= lengths.length) done.forEach((_, i) => (done[i] = lengths[i]!));
    else done[pass] = Math.min(lengths[pass]!, Math.max(done[pass]!, seconds));
    const fraction = Math.min(1, done.reduce((a, b) => a + b, 0) / total);
    if (fraction > last || pass >= lengths.length) {
      last = fraction;
      onProgress(fraction);
    }
  };
}

function round(sec: number): number {
  return Math.round(sec * 1000) / 1000;
}
