// The picture facts credits detection needs from an episode's tail: where it is mostly dark
// (ffmpeg blackdetect, loose enough for white text on black) and where the shot changes
// (ffmpeg scdet), read from ffmpeg's log lines.
//
// Speed: the tail is decoded once, but filtered at 5 frames a second on a 320-pixel-wide
// grey picture, so the filters cost nothing next to the decoder. Not narrower: shrunk to
// 160 pixels, a screenful of credit lines blurs into enough grey to stop being dark. Strictness: ffmpeg's log
// also carries text from the file (metadata is printed at the same log level), so a line
// counts only when it is exactly a blackdetect or scdet report, each number is a plain
// decimal within the range analysed, and spans are kept only in time order. The helper keeps
// the first 64 KiB of the log: a log that long (a corrupt stream's error flood, or an
// absurd number of cuts) is refused as a whole rather than read in part.
import { ffmpeg } from "../ffmpeg.ts";

export type TimeSpan = { startSec: number; endSec: number };

export type PictureAnalysis = {
  /** Mostly dark stretches, in media time, in order. */
  darkSpans: TimeSpan[];
  /** Shot changes, in media time, in order. */
  sceneChanges: number[];
};

export type PictureRange = {
  startSec: number;
  durationSec: number;
  /** The video stream, as `-map 0:{index}`; default the first video stream. */
  streamIndex?: number;
  onOutTime?: (seconds: number) => void;
  signal?: AbortSignal;
};

/** The log was cut at the helper's bound, so its later reports (the credits) may be missing. */
export class PictureLogTooLong extends Error {
  override name = "PictureLogTooLong";
}

export const PICTURE_FPS = 5;
const PICTURE_WIDTH = 320;
/**
 * A frame is dark when at least 85 % of its pixels are below 10 % luminance: rolling credits
 * (a screenful of white text on black) pass, a dim scene with a lit face or sky does not.
 */
export const DARK_PICTURE_SHARE = 0.85;
export const DARK_PIXEL_LEVEL = 0.1;
/** Shortest dark stretch reported. */
export const MIN_DARK_SEC = 1;
/** scdet's score (0–100) from which a frame starts a new shot. */
export const SCENE_THRESHOLD = 10;
/** The helper's bound on stderr (tools/ingest/ffmpeg.ts): a log this long may be cut. */
const LOG_LIMIT = 64 * 1024;

export async function analyzePicture(file: string, range: PictureRange): Promise<PictureAnalysis> {
  const map = range.streamIndex === undefined ? "0:v:0" : `0:${range.streamIndex}`;
  const filters = [
    `fps=${PICTURE_FPS}`,
    `scale=${PICTURE_WIDTH}:-2:flags=fast_bilinear`,
    "format=gray",
    `blackdetect=d=${MIN_DARK_SEC}:pic_th=${DARK_PICTURE_SHARE}:pix_th=${DARK_PIXEL_LEVEL}`,
    `scdet=t=${SCENE_THRESHOLD}`,
  ].join(",");
  const { stderr } = await ffmpeg(
    [
      "-ss", range.startSec.toFixed(3), "-t", range.durationSec.toFixed(3), "-i", file,
      "-map", map, "-an", "-sn", "-dn", "-vf", filters,
      // The filters report at info level; this comes after the helper's `-loglevel error` and wins.
      "-loglevel", "info", "-nostats", "-f", "null", "-",
    ],
    { ...(range.onOutTime ? { onOutTime: range.onOutTime } : {}), ...(range.signal ? { signal: range.signal } : {}) },
  );
  if (stderr.length >= LOG_LIMIT) throw new PictureLogTooLong(`ffmpeg's picture analysis log passed ${LOG_LIMIT} bytes: no partial reading`);
  return parsePictureLog(stderr, range.startSec, range.durationSec);
}

/** Up to 9 digits, an optional fraction of up to 9: no sign, no exponent, nothing to backtrack over. */
const NUMBER = String.raw`(\d{1,9}(?:\.\d{1,9})?)`;
const FILTER_ID = String.raw`0x[0-9a-f]{1,16}`;
const BLACK_LINE = new RegExp(String.raw`^\[blackdetect @ ${FILTER_ID}\] black_start:${NUMBER} black_end:${NUMBER} black_duration:${NUMBER}$`);
const SCENE_LINE = new RegExp(String.raw`^\[scdet @ ${FILTER_ID}\] lavfi\.scd\.score: ${NUMBER}, lavfi\.scd\.time: ${NUMBER}$`);
/** Lines longer than any real report are not even tried. */
const MAX_LINE = 200;

export function parseBlackLine(line: string): TimeSpan | null {
  if (line.length > MAX_LINE) return null;
  const m = BLACK_LINE.exec(line);
  if (!m) return null;
  const [startSec, endSec, duration] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!(endSec > startSec) || Math.abs(endSec - startSec - duration) > 0.01) return null;
  return { startSec, endSec };
}

export function parseSceneLine(line: string): { score: number; timeSec: number } | null {
  if (line.length > MAX_LINE) return null;
  const m = SCENE_LINE.exec(line);
  if (!m) return null;
  const score = Number(m[1]);
  if (!(score <= 100)) return null;
  return { score, timeSec: Number(m[2]) };
}

/**
 * The dark spans and scene changes of a log whose times count from `offsetSec` (ffmpeg
 * starts at 0 after an input seek), in media time. Reports outside [0, durationSec] (plus
 * a frame), or out of order, are dropped.
 */
export function parsePictureLog(log: string, offsetSec: number, durationSec: number): PictureAnalysis {
  const darkSpans: TimeSpan[] = [];
  const sceneChanges: number[] = [];
  const limit = durationSec + 1 / PICTURE_FPS;
  for (const raw of log.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const dark = parseBlackLine(line);
    if (dark) {
      const previous = darkSpans[darkSpans.length - 1];
      if (dark.endSec <= limit && (!previous || dark.startSec >= previous.endSec - offsetSec)) {
        darkSpans.push({ startSec: round(dark.startSec + offsetSec), endSec: round(dark.endSec + offsetSec) });
      }
      continue;
    }
    const scene = parseSceneLine(line);
    if (scene && scene.timeSec <= limit) {
      const t = round(scene.timeSec + offsetSec);
      const previous = sceneChanges[sceneChanges.length - 1];
      if (previous === undefined || t > previous) sceneChanges.push(t);
    }
  }
  return { darkSpans, sceneChanges };
}

function round(sec: number): number {
  return Math.round(sec * 1000) / 1000;
}
