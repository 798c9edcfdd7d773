// Audio fingerprints of a time range of a media file, for finding the sound episodes share
// (intro, credits music, a recap's clips): ffmpeg's chromaprint muxer, or our own code
// (pcm-fingerprint.ts) from the PCM ffmpeg decodes.
//
// chromaprint is preferred: it is the fingerprint AcoustID uses on millions of recordings,
// built on chroma (pitch classes), so it shrugs off codec, loudness and equaliser changes,
// and ffmpeg computes it in C while decoding. Its items are coarse in time (0.124 s apart,
// each summarising 2.7 s), which the matcher corrects for. "marquee-pcm" needs nothing but
// ffmpeg's decoder, so it works with any ffmpeg build (Debian's has chromaprint; a static
// build or a distribution's minimal package often does not), and is finer in time (0.093 s,
// 0.46 s windows), but it is a plain spectral code, less robust to heavy re-mastering, and
// computing it in JavaScript costs about a second per 20 minutes of sound.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { endianness, tmpdir } from "node:os";
import path from "node:path";
import { ffmpeg } from "../ffmpeg.ts";
import { pcmFingerprint, PCM_SAMPLE_RATE } from "./pcm-fingerprint.ts";
import { FINGERPRINT_PROFILES, type FingerprintAlgorithm } from "./profiles.ts";

export type Fingerprint = {
  algorithm: FingerprintAlgorithm;
  itemSec: number;
  /** Media time where item 0's window starts. */
  startSec: number;
  items: Uint32Array;
};

export type FingerprintRange = {
  startSec: number;
  durationSec: number;
  /** The audio stream to read, as `-map 0:{index}`; default the first audio stream. */
  streamIndex?: number;
  algorithm: FingerprintAlgorithm;
  /** Called with seconds of the range done. */
  onOutTime?: (seconds: number) => void;
  signal?: AbortSignal;
};

/** Longest range one fingerprint covers: decoded s16 at 11025 Hz is 26 MB for 20 minutes. */
const MAX_RANGE_SEC = 30 * 60;

let chromaprintProbe: Promise<boolean> | null = null;

/** Whether the installed ffmpeg has the chromaprint muxer (asked once per process). */
export function chromaprintAvailable(): Promise<boolean> {
  chromaprintProbe ??= ffmpeg(["-muxers"]).then(
    ({ stdout }) => stdout.split("\n").some((line) => /^ [ D]E chromaprint /.test(line)),
    () => false,
  );
  return chromaprintProbe;
}

/** The algorithm analyze.ts uses: chromaprint when ffmpeg has it, unless the fallback is forced. */
export async function pickAlgorithm(forceFallback = false): Promise<FingerprintAlgorithm> {
  return !forceFallback && (await chromaprintAvailable()) ? "chromaprint" : "marquee-pcm";
}

export async function fingerprintRange(file: string, range: FingerprintRange): Promise<Fingerprint> {
  if (!(range.durationSec > 0 && range.durationSec <= MAX_RANGE_SEC) || !(range.startSec >= 0)) {
    throw new RangeError(`cannot fingerprint ${range.durationSec} s from ${range.startSec} s`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), "marquee-fp-"));
  try {
    const items = range.algorithm === "chromaprint" ? await chromaprintItems(file, range, dir) : await pcmItems(file, range, dir);
    return { algorithm: range.algorithm, itemSec: FINGERPRINT_PROFILES[range.algorithm].itemSec, startSec: range.startSec, items };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function inputArgs(file: string, range: FingerprintRange): string[] {
  const map = range.streamIndex === undefined ? "0:a:0" : `0:${range.streamIndex}`;
  return [
    "-ss", seconds(range.startSec), "-t", seconds(range.durationSec), "-i", file,
    "-map", map, "-vn", "-sn", "-dn", "-ac", "1", "-ar", String(PCM_SAMPLE_RATE),
  ];
}

async function chromaprintItems(file: string, range: FingerprintRange, dir: string): Promise<Uint32Array> {
  const out = path.join(dir, "fingerprint.raw");
  await ffmpeg([...inputArgs(file, range), "-f", "chromaprint", "-algorithm", "1", "-fp_format", "raw", "-y", out], options(range));
  const maxItems = Math.ceil(range.durationSec / FINGERPRINT_PROFILES.chromaprint.itemSec) + 1;
  const bytes = await readBounded(out, maxItems * 4);
  if (bytes.length % 4 !== 0) throw new Error(`chromaprint wrote ${bytes.length} bytes, not whole 32-bit items`);
  // The muxer writes the items in the host's byte order.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = endianness() === "LE";
  const items = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < items.length; i++) items[i] = view.getUint32(i * 4, little);
  return items;
}

async function pcmItems(file: string, range: FingerprintRange, dir: string): Promise<Uint32Array> {
  const out = path.join(dir, "audio.s16");
  await ffmpeg([...inputArgs(file, range), "-f", "s16le", "-y", out], options(range));
  const maxBytes = (Math.ceil(range.durationSec * PCM_SAMPLE_RATE) + PCM_SAMPLE_RATE) * 2;
  const bytes = await readBounded(out, maxBytes);
  const samples = new Int16Array(bytes.length >> 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  return pcmFingerprint(samples);
}

function options(range: FingerprintRange) {
  return { ...(range.onOutTime ? { onOutTime: range.onOutTime } : {}), ...(range.signal ? { signal: range.signal } : {}) };
}

/** A file ffmpeg wrote, refused if larger than what the range can explain. */
async function readBounded(file: string, maxBytes: number): Promise<Buffer> {
  const { size } = await stat(file);
  if (size > maxBytes) throw new Error(`ffmpeg wrote ${size} bytes where at most ${maxBytes} fit the range`);
  return readFile(file);
}

/** ffmpeg's time syntax, millisecond precision, never an exponent. */
function seconds(s: number): string {
  return s.toFixed(3);
}
