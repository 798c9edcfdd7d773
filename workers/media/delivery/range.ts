// Parsing a Range header against a known size (RFC 9110 §14): one byte range, or none.
export type ByteRange = { start: number; end: number }; // inclusive

export type RangeResult =
  | { kind: "none" } // no Range header, or one we answer with the whole body
  | { kind: "range"; range: ByteRange }
  | { kind: "unsatisfiable" };

export function parseRange(header: string | null, size: number): RangeResult {
  if (header === null) return { kind: "none" };
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  // Multiple ranges and other units are allowed to be ignored: the whole body is correct.
  if (!match) return { kind: "none" };
  const [, first, last] = match;
  if (first === "" && last === "") return { kind: "none" };
  if (first === "") {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  // A last position before the first makes the header invalid, and an invalid one is ignored.
  if (last !== "" && Number(last) < start) return { kind: "none" };
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "range", range: { start, end } };
}
