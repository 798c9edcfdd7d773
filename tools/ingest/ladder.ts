// The per-title bitrate ladder: which renditions a source gets and at what bitrates (pure).

/** One video rendition to encode; kbps figures are x264 ABR + VBV targets. */
export type Rung = {
  /** Folder and manifest id, e.g. `720p`: the class, by the picture's short side. */
  id: string;
  width: number;
  height: number;
  kbps: number;
  maxrateKbps: number;
  bufsizeKbps: number;
};

/**
 * Short side of each rung class and its H.264 High bitrate for typical content at up to
 * 30 fps: a lean version of common public ladders (Apple's HLS authoring spec starts higher),
 * because the complexity factor raises it for content that needs more and lowers it for
 * content that needs less.
 */
export const BASE_KBPS = new Map<number, number>([
  [240, 250],
  [360, 500],
  [480, 900],
  [720, 2000],
  [1080, 3800],
  [1440, 7000],
  [2160, 12_000],
]);

/** A factor outside this range says more about the probe than the content: flat slides still need bits, noise is not worth 3x. */
export const COMPLEXITY_FACTOR_MIN = 0.35;
export const COMPLEXITY_FACTOR_MAX = 2;

/** Peak allowed over the VBV window, and the window itself, relative to the target. */
const MAXRATE_RATIO = 1.5;
const BUFSIZE_RATIO = 2;

/** Picture area of the smallest class at 16:9, the yardstick for a source too small for any class. */
const SMALLEST_CLASS_AREA = 240 * ((240 * 16) / 9);
const MIN_KBPS = 50;

/**
 * Every class up to the source's short side, lowest first, never upscaling. A source whose
 * short side is below the smallest class gets one rung at its own (even) size.
 */
export function chooseLadder(source: { width: number; height: number }, complexity: number): Rung[] {
  const factor = clampFactor(complexity);
  const short = Math.min(source.width, source.height);
  const classes = [...BASE_KBPS.keys()].filter((c) => c <= short);
  if (classes.length === 0) return [tinyRung(source, factor)];
  return classes.map((c) => {
    const { width, height } = classSize(source, c);
    return makeRung(`${c}p`, width, height, BASE_KBPS.get(c)! * factor);
  });
}

/** A rung with the VBV limits this pipeline always pairs with a target bitrate. */
export function makeRung(id: string, width: number, height: number, kbps: number): Rung {
  const target = Math.max(MIN_KBPS, Math.round(kbps));
  return {
    id,
    width,
    height,
    kbps: target,
    maxrateKbps: Math.round(target * MAXRATE_RATIO),
    bufsizeKbps: Math.round(target * BUFSIZE_RATIO),
  };
}

export function clampFactor(complexity: number): number {
  if (!Number.isFinite(complexity)) return 1;
  return Math.min(COMPLEXITY_FACTOR_MAX, Math.max(COMPLEXITY_FACTOR_MIN, complexity));
}

/** The short side becomes the class; the long side keeps the aspect, even (4:2:0 chroma) and never above the source. */
function classSize(source: { width: number; height: number }, shortSide: number): { width: number; height: number } {
  const landscape = source.width >= source.height;
  const [short, long] = landscape ? [source.height, source.width] : [source.width, source.height];
  const scaledLong = Math.min(evenRound((shortSide * long) / short), evenFloor(long));
  return landscape ? { width: scaledLong, height: shortSide } : { width: shortSide, height: scaledLong };
}

function tinyRung(source: { width: number; height: number }, factor: number): Rung {
  const width = evenFloor(source.width);
  const height = evenFloor(source.height);
  const kbps = BASE_KBPS.get(240)! * factor * ((width * height) / SMALLEST_CLASS_AREA);
  return makeRung(`${Math.min(width, height)}p`, width, height, kbps);
}

function evenRound(x: number): number {
  return Math.max(2, 2 * Math.round(x / 2));
}

function evenFloor(x: number): number {
  return Math.max(2, 2 * Math.floor(x / 2));
}
