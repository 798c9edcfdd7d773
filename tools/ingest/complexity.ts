// Measures how hard a source is to compress, to scale its bitrate ladder (per-title encoding).
import { stat } from "node:fs/promises";
import path from "node:path";
import { BITEXACT, ffmpeg, ffprobe } from "./ffmpeg.ts";
import type { FrameRate } from "./timing.ts";
import { withGraph, type MediaSource, type TimeWindow } from "./source.ts";

export type Complexity = {
  /** measuredKbps / REFERENCE_KBPS, before the ladder clamps it. */
  factor: number;
  /** Constant-quality bitrate, normalised to a 640x360 picture. */
  measuredKbps: number;
  sampledSec: number;
};

/**
 * What typical live-action video costs at x264 CRF 23 `veryfast`, 640x360, <= 30 fps: such
 * content gets the base ladder (factor 1). For scale, on ffmpeg's own sources: testsrc ~50,
 * testsrc2 ~720, mandelbrot ~2600 kbps. Not calibrated on a corpus of real titles; it is the
 * one number to tune when one exists.
 */
export const REFERENCE_KBPS = 600;
const PROBE_CRF = 23;
const PROBE_SHORT_SIDE = 360;
const REFERENCE_AREA = 640 * 360;
const WINDOWS = 3;
const WINDOW_SEC = 2;

/**
 * A quick constant-quality encode of a few samples: what it takes to hold a fixed quality
 * is the content's complexity. Three 2 s windows spread over the title, or all of a short
 * one; single-threaded and bitexact, so the same input always gets the same ladder.
 */
export async function measureComplexity(
  source: MediaSource,
  fps: FrameRate,
  workDir: string,
  onFraction: (fraction: number) => void = () => {},
): Promise<Complexity> {
  const windows = sampleWindows(source);
  const size = probeSize(source.info);
  let bytes = 0;
  let frames = 0;
  for (const [i, window] of windows.entries()) {
    const out = path.join(workDir, `complexity-${i}.h264`);
    await ffmpeg(
      [
        "-y",
        ...source.inputArgs(source.seekable ? window : undefined),
        "-filter_complex", withGraph(source, [`${source.videoPad}fps=${fps.num}/${fps.den},scale=${size.width}:${size.height}[c]`]),
        "-map", "[c]",
        "-frames:v", String(Math.max(1, Math.round(window.durationSec * fps.value))),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", String(PROBE_CRF),
        ...BITEXACT,
        "-f", "h264", out,
      ],
      { onOutTime: (sec) => onFraction((i + Math.min(1, sec / window.durationSec)) / windows.length) },
    );
    bytes += (await stat(out)).size;
    frames += await countPackets(out);
  }
  onFraction(1);
  // Nothing decoded (e.g. a file cut short before the sampled windows): the encode decides.
  if (frames === 0) return { factor: 1, measuredKbps: 0, sampledSec: 0 };
  const sampledSec = frames / fps.value;
  const measuredKbps = ((bytes * 8) / 1000 / sampledSec) * (REFERENCE_AREA / (size.width * size.height));
  return { factor: measuredKbps / REFERENCE_KBPS, measuredKbps: Math.round(measuredKbps), sampledSec };
}

function sampleWindows(source: MediaSource): TimeWindow[] {
  const duration = source.info.durationSec;
  if (!source.seekable || duration <= WINDOWS * WINDOW_SEC * 2) return [{ startSec: 0, durationSec: duration }];
  return Array.from({ length: WINDOWS }, (_, i) => ({
    startSec: Math.round(((duration * (i + 0.5)) / WINDOWS - WINDOW_SEC / 2) * 1000) / 1000,
    durationSec: WINDOW_SEC,
  }));
}

/** The 360 class at the source's aspect, upscaling small sources too, so every title is measured alike. */
function probeSize(picture: { width: number; height: number }): { width: number; height: number } {
  const long = (PROBE_SHORT_SIDE * Math.max(picture.width, picture.height)) / Math.min(picture.width, picture.height);
  const even = 2 * Math.round(long / 2);
  return picture.width >= picture.height
    ? { width: even, height: PROBE_SHORT_SIDE }
    : { width: PROBE_SHORT_SIDE, height: even };
}

async function countPackets(file: string): Promise<number> {
  const { stdout } = await ffprobe(["-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", file]);
  return Number(stdout.trim()) || 0;
}
