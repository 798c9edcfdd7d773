// Finds the sound two fingerprints share: which stretch of items in one reappears, at one
// offset, in the other (pure; fingerprints are arrays of 32-bit items, see fingerprint.ts).
//
// Comparing every offset item by item costs n·m popcounts (10^8 for two 20-minute heads),
// so a coarse pass first: each item is filed under its top and its bottom 16 bits, and an
// item of `a` votes for offset j - i for every item j of `b` sharing either half exactly.
// A shared stretch piles its votes on one offset (a few neighbours when the sound is not
// aligned to the item step); unrelated items scatter theirs, about one per 30 000 pairs.
// Only the few best offsets are then compared item by item: two items are the same sound
// when they differ in at most `maxBitErrors` bits at offset d or d+1 (the shared sound
// rarely starts on the same fraction of an item step in both files), and a span is a run
// of such items in which at most `maxGapItems` unlike items follow one another and at least
// `minDensity` of the items compared match; its ends are pulled in to where matches are
// dense (`edgeMatches` of `edgeWindow` items), so a stray lucky item beside the shared
// sound does not stretch it. Items that carry no information (silence, a held tone:
// runs of one value, and the value 0) are skipped: they neither match nor break a span,
// so two silences never make a span, and a span always starts and ends on real matches.

export type MatchOptions = {
  maxBitErrors: number;
  /** Shortest span, in items from its first to its last match. */
  minSpanItems: number;
  /** Longest run of unlike items inside a span. */
  maxGapItems: number;
  /** Least share of compared items in a span that match. */
  minDensity: number;
  /** Offsets compared item by item. */
  maxCandidates: number;
  /** A span's first (last) match has at least edgeMatches matches among the edgeWindow items from (up to) it. */
  edgeWindow: number;
  edgeMatches: number;
};

export const DEFAULT_MATCH: MatchOptions = { maxBitErrors: 10, minSpanItems: 40, maxGapItems: 12, minDensity: 0.5, maxCandidates: 12, edgeWindow: 6, edgeMatches: 4 };

/**
 * Items a[aStart..aEnd] (inclusive) match b[aStart+offset..aEnd+offset]; `offset` is a
 * whole number, or a half when the sound sits between two item steps.
 */
export type ItemSpan = {
  aStart: number;
  aEnd: number;
  offset: number;
  /** Items that matched, and items compared (neither side uninformative). */
  matched: number;
  compared: number;
  /** matched / compared. */
  density: number;
  /** Mean differing bits over the matched items. */
  meanBitErrors: number;
};

/** A fingerprint prepared for matching: its uninformative items and its half-item index. */
export type IndexedItems = {
  items: Uint32Array;
  /** 1 where an item carries no information. */
  blank: Uint8Array;
  /** Positions filed under key k (the top half: k; the bottom half: 65536 + k) are positions[start[k] .. start[k+1]). */
  start: Int32Array;
  positions: Int32Array;
};

const KEYS = 2 * 65_536;
/** A half shared by more items than this says little about where it came from: not filed. */
const MAX_POSTINGS = 48;
/** Runs of one value at least this long are a held sound, not a fingerprint. */
const BLANK_RUN = 3;

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function blankItems(items: Uint32Array): Uint8Array {
  const blank = new Uint8Array(items.length);
  let runStart = 0;
  for (let i = 1; i <= items.length; i++) {
    if (i < items.length && items[i] === items[runStart]) continue;
    const zero = items[runStart] === 0;
    if (zero || i - runStart >= BLANK_RUN) blank.fill(1, runStart, i);
    runStart = i;
  }
  return blank;
}

export function indexItems(items: Uint32Array): IndexedItems {
  const blank = blankItems(items);
  const counts = new Int32Array(KEYS + 1);
  for (let i = 0; i < items.length; i++) {
    if (blank[i]) continue;
    counts[items[i]! >>> 16]!++;
    counts[65_536 + (items[i]! & 0xffff)]!++;
  }
  const start = new Int32Array(KEYS + 1);
  for (let k = 0; k < KEYS; k++) start[k + 1] = start[k]! + (counts[k]! <= MAX_POSTINGS ? counts[k]! : 0);
  const positions = new Int32Array(start[KEYS]!);
  const fill = start.slice(0, KEYS);
  for (let i = 0; i < items.length; i++) {
    if (blank[i]) continue;
    const hi = items[i]! >>> 16;
    const lo = 65_536 + (items[i]! & 0xffff);
    if (counts[hi]! <= MAX_POSTINGS) positions[fill[hi]!++] = i;
    if (counts[lo]! <= MAX_POSTINGS) positions[fill[lo]!++] = i;
  }
  return { items, blank, start, positions };
}

/**
 * The spans a and b share, longest first, none overlapping another (in a or in b) by more
 * than half of the shorter.
 */
export function findSharedSpans(a: IndexedItems, b: IndexedItems, options: Partial<MatchOptions> = {}): ItemSpan[] {
  const opts = { ...DEFAULT_MATCH, ...options };
  const spans: ItemSpan[] = [];
  for (const offset of candidateOffsets(a, b, opts)) spans.push(...spansAt(a, b, offset, opts));
  spans.sort((x, y) => y.matched - x.matched || x.aStart - y.aStart);
  const kept: ItemSpan[] = [];
  for (const span of spans) {
    if (!kept.some((k) => overlapsMostly(k.aStart, k.aEnd, span.aStart, span.aEnd) || overlapsMostly(k.aStart + k.offset, k.aEnd + k.offset, span.aStart + span.offset, span.aEnd + span.offset))) {
      kept.push(span);
    }
  }
  return kept.sort((x, y) => y.aEnd - y.aStart - (x.aEnd - x.aStart));
}

export function longestSharedSpan(a: IndexedItems, b: IndexedItems, options: Partial<MatchOptions> = {}): ItemSpan | null {
  return findSharedSpans(a, b, options)[0] ?? null;
}

/** The best offsets by votes (smoothed over neighbours), each with its neighbours. */
function candidateOffsets(a: IndexedItems, b: IndexedItems, opts: MatchOptions): number[] {
  const n = a.items.length;
  const m = b.items.length;
  if (n === 0 || m === 0) return [];
  // votes[offset + n - 1] for offset in [-(n-1), m-1].
  const votes = new Int32Array(n + m);
  for (let i = 0; i < n; i++) {
    if (a.blank[i]) continue;
    const item = a.items[i]!;
    const hi = item >>> 16;
    for (let p = b.start[hi]!; p < b.start[hi + 1]!; p++) votes[b.positions[p]! - i + n - 1]!++;
    const lo = 65_536 + (item & 0xffff);
    for (let p = b.start[lo]!; p < b.start[lo + 1]!; p++) votes[b.positions[p]! - i + n - 1]!++;
  }
  const smooth = new Int32Array(votes.length);
  for (let d = 0; d < votes.length; d++) smooth[d] = votes[d]! + (d > 0 ? votes[d - 1]! : 0) + (d + 1 < votes.length ? votes[d + 1]! : 0);
  // A span of minSpanItems at half density with one exact half in eight items would cast this many.
  const minVotes = Math.max(3, Math.floor(opts.minSpanItems * opts.minDensity * 0.125));
  const offsets = new Set<number>();
  for (let round = 0; round < opts.maxCandidates; round++) {
    let best = -1;
    for (let d = 0; d < smooth.length; d++) if (smooth[d]! >= minVotes && (best < 0 || smooth[d]! > smooth[best]!)) best = d;
    if (best < 0) break;
    for (let d = Math.max(0, best - 3); d <= Math.min(smooth.length - 1, best + 3); d++) smooth[d] = 0;
    // Pairs (d-1, d) and (d, d+1), see spansAt.
    offsets.add(best - n);
    offsets.add(best - (n - 1));
  }
  return [...offsets];
}

/** Differing bits of a[i] and b[i + offset], or -1 when either carries no information or is out of range. */
function bitErrors(a: IndexedItems, b: IndexedItems, i: number, offset: number): number {
  const j = i + offset;
  if (j < 0 || j >= b.items.length || a.blank[i] || b.blank[j]) return -1;
  return popcount32((a.items[i]! ^ b.items[j]!) >>> 0);
}

/** The spans along offsets d and d+1: an item matches at whichever is closer. */
function spansAt(a: IndexedItems, b: IndexedItems, d: number, opts: MatchOptions): ItemSpan[] {
  const from = Math.max(0, -d - 1);
  const to = Math.min(a.items.length, b.items.length - d);
  if (to <= from) return [];
  // errors[i - from]: the closer of the two, -1 for nothing to compare.
  const errors = new Int8Array(to - from);
  // Which of the two offsets gave it: +1 for d+1, -1 for d, 0 for a tie.
  const side = new Int8Array(to - from);
  for (let i = from; i < to; i++) {
    const x = bitErrors(a, b, i, d);
    const y = bitErrors(a, b, i, d + 1);
    errors[i - from] = x < 0 ? y : y < 0 ? x : Math.min(x, y);
    side[i - from] = x < 0 ? 1 : y < 0 ? -1 : Math.sign(x - y);
  }
  const isMatch = (i: number) => errors[i - from]! >= 0 && errors[i - from]! <= opts.maxBitErrors;
  const spans: ItemSpan[] = [];
  let first = -1;
  let last = -1;
  let unlike = 0;
  const close = () => {
    if (first >= 0) {
      const span = trimmed(first, last);
      if (span) spans.push(span);
    }
    first = -1;
    unlike = 0;
  };
  const trimmed = (s: number, e: number): ItemSpan | null => {
    while (s <= e && !(isMatch(s) && matchesIn(s, s + opts.edgeWindow - 1) >= opts.edgeMatches)) s++;
    while (e >= s && !(isMatch(e) && matchesIn(e - opts.edgeWindow + 1, e) >= opts.edgeMatches)) e--;
    if (e - s + 1 < opts.minSpanItems) return null;
    let matched = 0;
    let compared = 0;
    let bits = 0;
    let lean = 0;
    for (let i = s; i <= e; i++) {
      const x = errors[i - from]!;
      if (x < 0) continue;
      compared++;
      if (x <= opts.maxBitErrors) {
        matched++;
        bits += x;
        lean += side[i - from]!;
      }
    }
    const density = matched / compared;
    if (density < opts.minDensity) return null;
    // The offset most matches came from, or between the two when they split.
    const offset = lean > matched / 3 ? d + 1 : lean < -matched / 3 ? d : d + 0.5;
    return { aStart: s, aEnd: e, offset, matched, compared, density, meanBitErrors: bits / matched };
  };
  const matchesIn = (s: number, e: number) => {
    let count = 0;
    for (let i = Math.max(from, s); i <= Math.min(to - 1, e); i++) if (isMatch(i)) count++;
    return count;
  };
  for (let i = from; i < to; i++) {
    const x = errors[i - from]!;
    if (x < 0) continue;
    if (x <= opts.maxBitErrors) {
      if (first < 0) first = i;
      last = i;
      unlike = 0;
    } else if (first >= 0 && ++unlike > opts.maxGapItems) {
      close();
    }
  }
  close();
  return spans;
}

function overlapsMostly(s1: number, e1: number, s2: number, e2: number): boolean {
  const overlap = Math.min(e1, e2) - Math.max(s1, s2) + 1;
  return overlap > 0.5 * Math.min(e1 - s1 + 1, e2 - s2 + 1);
}
