// Our own audio fingerprint ("marquee-pcm"), computed from decoded PCM: the fallback for an
// ffmpeg built without the chromaprint muxer (pure; fingerprint.ts runs ffmpeg).
//
// A Haitsma–Kalker style code: mono 11025 Hz, frames of 4096 samples (0.37 s, Hann
// window) every 1024 samples (0.093 s), the energy of 33 bands spaced logarithmically
// between 300 and 2000 Hz, and per frame one 32-bit item whose bit m says whether the
// energy difference between bands m and m+1 grew since the previous frame. Signs of
// differences do not care about loudness or a codec's small spectral changes, and each
// item depends on only 0.46 s of sound, so spans found with it start and end sharply. A
// frame that is (nearly) silent has no such signs: its item is 0, which the matcher treats
// as carrying no information (see match.ts).

export const PCM_SAMPLE_RATE = 11_025;
export const PCM_FRAME = 4096;
export const PCM_HOP = 1024;
const BANDS = 33;
const LOW_HZ = 300;
const HIGH_HZ = 2000;
/** Mean square below this (about -70 dBFS for s16 samples) is silence. */
const SILENT_MEAN_SQUARE = (32768 * 10 ** (-70 / 20)) ** 2;

/** Items of `samples` (mono s16 at 11025 Hz): one per hop after the first frame. */
export function pcmFingerprint(samples: Int16Array): Uint32Array {
  const frames = samples.length < PCM_FRAME ? 0 : Math.floor((samples.length - PCM_FRAME) / PCM_HOP) + 1;
  if (frames < 2) return new Uint32Array(0);
  const window = hann(PCM_FRAME);
  const edges = bandEdges();
  const re = new Float64Array(PCM_FRAME);
  const im = new Float64Array(PCM_FRAME);
  const fft = makeFft(PCM_FRAME);
  let previous = new Float64Array(BANDS);
  let current = new Float64Array(BANDS);
  let previousSilent = true;
  const items = new Uint32Array(frames - 1);
  for (let f = 0; f < frames; f++) {
    const base = f * PCM_HOP;
    let power = 0;
    for (let i = 0; i < PCM_FRAME; i++) {
      const s = samples[base + i]!;
      power += s * s;
      re[i] = s * window[i]!;
      im[i] = 0;
    }
    const silent = power / PCM_FRAME < SILENT_MEAN_SQUARE;
    fft(re, im);
    for (let b = 0; b < BANDS; b++) {
      let e = 0;
      for (let k = edges[b]!; k < edges[b + 1]!; k++) e += re[k]! * re[k]! + im[k]! * im[k]!;
      current[b] = e;
    }
    if (f > 0) items[f - 1] = silent || previousSilent ? 0 : code(current, previous);
    [previous, current] = [current, previous];
    previousSilent = silent;
  }
  return items;
}

function code(now: Float64Array, before: Float64Array): number {
  let item = 0;
  for (let m = 0; m < BANDS - 1; m++) {
    const d = now[m]! - now[m + 1]! - (before[m]! - before[m + 1]!);
    if (d > 0) item |= 1 << m;
  }
  return item >>> 0;
}

/** FFT bin boundaries of the bands: band b is bins [edges[b], edges[b+1]). */
function bandEdges(): Int32Array {
  const edges = new Int32Array(BANDS + 1);
  const binHz = PCM_SAMPLE_RATE / PCM_FRAME;
  for (let b = 0; b <= BANDS; b++) edges[b] = Math.round((LOW_HZ * (HIGH_HZ / LOW_HZ) ** (b / BANDS)) / binHz);
  return edges;
}

function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** An in-place iterative radix-2 FFT of length `n` (a power of two), tables computed once. */
function makeFft(n: number): (re: Float64Array, im: Float64Array) => void {
  const reverse = new Uint32Array(n);
  const bits = Math.log2(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    reverse[i] = r;
  }
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((-2 * Math.PI * k) / n);
    sin[k] = Math.sin((-2 * Math.PI * k) / n);
  }
  return (re, im) => {
    for (let i = 0; i < n; i++) {
      const j = reverse[i]!;
      if (i < j) {
        const tr = re[i]!;
        re[i] = re[j]!;
        re[j] = tr;
        const ti = im[i]!;
        im[i] = im[j]!;
        im[j] = ti;
      }
    }
    for (let len = 2; len <= n; len <<= 1) {
      const half = len >> 1;
      const step = n / len;
      for (let start = 0; start < n; start += len) {
        for (let k = 0; k < half; k++) {
          const a = start + k;
          const b = a + half;
          const cr = cos[k * step]!;
          const ci = sin[k * step]!;
          const tr = re[b]! * cr - im[b]! * ci;
          const ti = re[b]! * ci + im[b]! * cr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
  };
}
