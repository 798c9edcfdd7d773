// Pure timing decisions of a packaging run: output frame rate, keyframe (= segment) plan, audio length.

/** A frame rate as the exact fraction ffmpeg takes (`30000/1001`) and its value. */
export type FrameRate = { num: number; den: number; value: number };

/** Rates a variable-frame-rate source is snapped to; players and TVs handle these best. */
const STANDARD_RATES: FrameRate[] = [
  rate(24000, 1001), rate(24, 1), rate(25, 1), rate(30000, 1001), rate(30, 1),
  rate(48, 1), rate(50, 1), rate(60000, 1001), rate(60, 1),
];
/** When no standard rate is close, the next whole rate up: nothing says the source was NTSC. */
const WHOLE_RATES = STANDARD_RATES.filter((r) => r.den === 1);

const MAX_FPS = 60;

export function rate(num: number, den: number): FrameRate {
  return { num, den, value: num / den };
}

export function parseFrameRate(fraction: string): FrameRate {
  const [num = "", den = "1"] = fraction.split("/");
  return rate(Number(num), Number(den));
}

/**
 * The constant rate the renditions get. A constant source keeps its exact rate, halved
 * while above 60 (119.88 becomes 59.94, not 60). A variable one (phones, screen capture)
 * gets the standard rate its average is (within 1%), else the next standard rate above it,
 * so no motion is lost to dropped frames and the rate is one players expect.
 */
export function outputFrameRate(source: { frameRateFraction: string; variableFrameRate: boolean }): FrameRate {
  let fps = parseFrameRate(source.frameRateFraction);
  if (source.variableFrameRate) {
    const average = fps.value;
    const nearest = [...STANDARD_RATES].sort((a, b) => Math.abs(a.value - average) - Math.abs(b.value - average))[0]!;
    if (Math.abs(nearest.value - average) <= average * 0.01) return nearest;
    return WHOLE_RATES.find((r) => r.value > average) ?? rate(MAX_FPS, 1);
  }
  while (fps.value > MAX_FPS + 0.01) fps = fps.num % 2 === 0 ? rate(fps.num / 2, fps.den) : rate(fps.num, fps.den * 2);
  return fps;
}

export type SegmentPlan = {
  /** Target duration of the segments after the start-up ones. */
  segmentSec: number;
  /** Shorter segments first, so a player's first download is small and playback starts fast. */
  startupSegmentSec: number;
  startupSegments: number;
  /**
   * A final segment shorter than this is merged into the one before: a sliver at the end
   * helps no one and, for audio, makes hls.js stall before `ended`.
   */
  minLastSegmentSec: number;
};

export const DEFAULT_SEGMENT_PLAN: SegmentPlan = {
  segmentSec: 4,
  startupSegmentSec: 2,
  startupSegments: 2,
  minLastSegmentSec: 1,
};

export type KeyframePlan = {
  /** Frame index of every segment's first frame, starting with 0. */
  segmentStarts: number[];
  /** `-force_key_frames` value producing exactly those keyframes. */
  forceKeyFrames: string;
  /** Longest segment in frames: x264's keyint must not cut any sooner. */
  longestSegmentFrames: number;
};

/**
 * Keyframes at the start of every planned segment. Written as an expression of frame
 * numbers (not seconds) so ffmpeg and this code agree to the frame: frame n opens segment k
 * when n >= ceil(start_k * fps - 0.25), which lands exactly on whole-frame starts and on the
 * next frame otherwise (29.97 fps: 2 s -> frame 60).
 */
export function keyframePlan(frames: number, fps: FrameRate, plan: SegmentPlan): KeyframePlan {
  const lastAllowed = frames - Math.max(1, Math.round(plan.minLastSegmentSec * fps.value));
  const segmentStarts = [0];
  for (let k = 1; ; k++) {
    const start = Math.ceil(segmentStartSec(k, plan) * fps.value - 0.25);
    if (start > lastAllowed) break;
    segmentStarts.push(start);
  }
  const ends = [...segmentStarts.slice(1), frames];
  const longestSegmentFrames = Math.max(...ends.map((end, i) => end - segmentStarts[i]!));
  const { startupSegmentSec: r, startupSegments: count, segmentSec: s } = plan;
  const startOf = `if(lt(n_forced,${count}),n_forced*${r},${count * r}+(n_forced-${count})*${s})`;
  return {
    segmentStarts,
    forceKeyFrames: `expr:gte(n,ceil(${startOf}*${fps.value}-0.25))*lte(n,${lastAllowed})`,
    longestSegmentFrames,
  };
}

/** Nominal start of segment k (k = 0 is the first). */
function segmentStartSec(k: number, plan: SegmentPlan): number {
  const { startupSegmentSec: r, startupSegments: count, segmentSec: s } = plan;
  return k < count ? k * r : count * r + (k - count) * s;
}

/** Frames of output video for a source of `durationSec`: what every rendition must decode to. */
export function frameCount(durationSec: number, fps: FrameRate): number {
  return Math.max(1, Math.round(durationSec * fps.value));
}

export const AAC_FRAME_SAMPLES = 1024;

/**
 * Audio is trimmed to whole AAC frames ending no later than the video: a partial last frame
 * becomes a tiny trailing audio segment, on which hls.js stalls and never fires `ended`.
 */
export function audioSampleCount(videoFrames: number, fps: FrameRate, sampleRate: number): number {
  const samples = Math.floor((videoFrames * fps.den * sampleRate) / fps.num);
  return Math.floor(samples / AAC_FRAME_SAMPLES) * AAC_FRAME_SAMPLES;
}
