// Parsing a Range header against a known size (RFC 9110 §14): one byte range, or none —
// by hand, in one pass over a bounded string, so no input can make it slow.
//
// A regular expression did this before: `^bytes=\s*(\d*)\s*-\s*(\d*)\s*$` backtracks over
// the ways to share a run of spaces between its `\s*`s, and `bytes=` + 60,000 spaces +
// `x` took 1.3 s of one isolate's time. Here every character is looked at once.
export type ByteRange = { start: number; end: number }; // inclusive

export type RangeResult =
  | { kind: "none" } // no Range header, or one we answer with the whole body
  | { kind: "range"; range: ByteRange }
  | { kind: "unsatisfiable" };

/**
 * Longer than any single byte range a player sends (`bytes=` and two 15-digit positions
 * are 37 characters): a longer header is not one we serve ranges for, and is ignored
 * without being read.
 */
export const MAX_RANGE_HEADER = 64;
/** 15 digits stay exact in a double, and are more bytes than any file has. */
const MAX_DIGITS = 15;

const NONE: RangeResult = { kind: "none" };
const UNSATISFIABLE: RangeResult = { kind: "unsatisfiable" };

/** The digits from `at` as a number and where they end; null for none, too many, or a leading zero (one spelling per number). */
function digits(text: string, at: number, stop: number): { value: number; end: number } | null {
  let value = 0;
  let end = at;
  for (; end < stop; end++) {
    const d = text.charCodeAt(end) - 48;
    if (d < 0 || d > 9) break;
    if (end - at === MAX_DIGITS || (end > at && value === 0)) return null;
    value = value * 10 + d;
  }
  return end === at ? null : { value, end };
}

/** `bytes=`, the unit in any case (RFC 9110 §14.1: units are case-insensitive), at `at`. */
function isBytesUnit(text: string, at: number): boolean {
  const unit = "bytes";
  for (let i = 0; i < unit.length; i++) if ((text.charCodeAt(at + i) | 0x20) !== unit.charCodeAt(i)) return false;
  return text.charCodeAt(at + unit.length) === 61; /* = */
}

const isSpace = (c: number) => c === 32 || c === 9;

/**
 * What to answer for `header` on a file of `size` bytes. Accepted: exactly `bytes=F-L`,
 * `bytes=F-` and `bytes=-N` (the unit in any case), with no whitespace inside — the
 * grammar has none there; only the header's own surrounding whitespace is skipped — and
 * numbers without leading zeros. Anything else (several ranges, another unit, a
 * malformed or over-long header) is ignored, which RFC 9110 §14.2 allows: the whole body
 * is a correct answer. A valid range that starts past the end, or a suffix of zero bytes,
 * is unsatisfiable (416).
 */
export function parseRange(header: string | null, size: number): RangeResult {
  if (header === null || header.length > MAX_RANGE_HEADER) return NONE;
  let at = 0;
  let stop = header.length;
  while (at < stop && isSpace(header.charCodeAt(at))) at++;
  while (stop > at && isSpace(header.charCodeAt(stop - 1))) stop--;
  if (stop - at < 7 || !isBytesUnit(header, at)) return NONE;
  at += 6;
  if (header.charCodeAt(at) === 45 /* - */) {
    // Suffix range: the last N bytes.
    const suffix = digits(header, at + 1, stop);
    if (!suffix || suffix.end !== stop) return NONE;
    if (suffix.value === 0 || size === 0) return UNSATISFIABLE;
    return { kind: "range", range: { start: Math.max(0, size - suffix.value), end: size - 1 } };
  }
  const first = digits(header, at, stop);
  if (!first || header.charCodeAt(first.end) !== 45 /* - */) return NONE;
  let last: number | null = null;
  if (first.end + 1 < stop) {
    const parsed = digits(header, first.end + 1, stop);
    if (!parsed || parsed.end !== stop) return NONE;
    last = parsed.value;
  }
  // A last position before the first makes the header invalid, and an invalid one is ignored.
  if (last !== null && last < first.value) return NONE;
  if (first.value >= size) return UNSATISFIABLE;
  return { kind: "range", range: { start: first.value, end: last === null ? size - 1 : Math.min(last, size - 1) } };
}
