// The Range header, parsed in one pass over a bounded string: RFC 9110's single byte
// ranges answered, everything else ignored (the whole body), pathological headers
// answered at once, and the parser held to an independent model of the grammar.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { MAX_RANGE_HEADER, parseRange, type RangeResult } from "../delivery/range.ts";
import { mediaClient, tokenFor } from "./helpers.ts";

const SIZE = 10_000;

/**
 * The grammar again, the other way: an unambiguous expression (one digit run, a literal
 * `-`, one digit run: nothing to backtrack over) on a header already bounded in length.
 */
function model(header: string | null, size: number): RangeResult {
  if (header === null || header.length > MAX_RANGE_HEADER) return { kind: "none" };
  // OWS around the header is spaces and tabs.
  const m = /^bytes=(?:(0|[1-9]\d{0,14})-(0|[1-9]\d{0,14})?|-(0|[1-9]\d{0,14}))$/i.exec(header.replace(/^[ \t]+/, "").replace(/[ \t]+$/, ""));
  if (!m) return { kind: "none" };
  const [, first, last, suffix] = m;
  if (suffix !== undefined) {
    const n = Number(suffix);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(first);
  if (last !== undefined && Number(last) < start) return { kind: "none" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", range: { start, end: last === undefined ? size - 1 : Math.min(Number(last), size - 1) } };
}

const range = (start: number, end: number): RangeResult => ({ kind: "range", range: { start, end } });

describe("parseRange", () => {
  it.each([
    // RFC 9110 §14.1.2's examples, on a 10,000-byte representation.
    ["bytes=0-499", range(0, 499)],
    ["bytes=500-999", range(500, 999)],
    ["bytes=-500", range(9500, 9999)],
    ["bytes=9500-", range(9500, 9999)],
    ["bytes=0-0", range(0, 0)],
    ["bytes=-1", range(9999, 9999)],
    // Past the end: the last position is cut to the size; a suffix longer than the file is all of it.
    ["bytes=9000-20000", range(9000, 9999)],
    ["bytes=-20000", range(0, 9999)],
    // The unit is case-insensitive (RFC 9110 §14.1); surrounding whitespace is the header's, not the range's.
    ["BYTES=0-1", range(0, 1)],
    ["  bytes=0-1\t", range(0, 1)],
  ] as const)("%j is %j", (header, answer) => expect(parseRange(header, SIZE)).toEqual(answer));

  it.each(["bytes=10000-", "bytes=10000-10001", "bytes=-0"])("%j is unsatisfiable", (header) => expect(parseRange(header, SIZE)).toEqual({ kind: "unsatisfiable" }));

  it.each([
    "bytes=500-600,601-999", // several ranges: the whole body is a correct answer
    "bytes=0-0,-1",
    "bytes=20-10", // last before first: invalid
    "items=0-1",
    "bytes=",
    "bytes=-",
    "bytes=0 - 1", // no whitespace inside a range-spec (the old expression took it)
    "bytes= 0-1",
    "bytes=0-1 ,",
    "bytes=007-", // one spelling per number
    "bytes=0-01",
    "bytes=1234567890123456-", // more digits than any file has bytes
    "bytes=+1-2",
    "bytes=1e3-",
    "bytes=0x10-",
    "bytes=٠-١", // other scripts' digits
    `bytes=0-1${" ".repeat(60)}`, // over the length bound, whatever follows
  ])("%j is ignored", (header) => expect(parseRange(header, SIZE)).toEqual({ kind: "none" }));

  it("ignores a zero-length file's ranges but its suffix ranges, which are unsatisfiable", () => {
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-5", 0)).toEqual({ kind: "unsatisfiable" });
  });

  it("agrees with the grammar's model on headers made of its own alphabet, and any string at all", () => {
    const alphabet = fc.constantFrom(..."0123456789-,= \tbytesBYTES".split(""), "bytes=", "bytes=-", "0", "00", "9".repeat(15), "9".repeat(16));
    const grammarish = fc.array(alphabet, { maxLength: 20 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(fc.oneof(grammarish, fc.string({ maxLength: 80 })), fc.integer({ min: 0, max: 2 ** 40 }), (header, size) => {
        expect(parseRange(header, size)).toEqual(model(header, size));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("a pathological Range header through the media Worker", () => {
  it.each([
    ["60,000 spaces and an x", `bytes=${" ".repeat(60_000)}x`],
    ["60,000 spaces inside a range", `bytes=0${" ".repeat(60_000)}-1`],
    ["60,000 digits", `bytes=${"9".repeat(60_000)}-`],
    ["60,000 ranges", `bytes=${"0-0,".repeat(15_000)}`],
  ])("%s: the whole file, 200", async (_, header) => {
    const asset = await seedSyntheticAsset(env.MEDIA, "range-pathological");
    const token = await tokenFor({ assetId: "range-pathological" });
    const { res, body } = await mediaClient()(`/p/${token}/range-pathological/240p/1.m4s`, { headers: { Range: header } });
    expect(res.status).toBe(200);
    expect(body).toEqual(asset.files.get("240p/1.m4s"));
  });

  it("a whitespace-padded range is ignored too, not served as a range", async () => {
    const asset = await seedSyntheticAsset(env.MEDIA, "range-padded");
    const token = await tokenFor({ assetId: "range-padded" });
    const { res, body } = await mediaClient()(`/p/${token}/range-padded/240p/1.m4s`, { headers: { Range: "bytes=0 - 9" } });
    expect(res.status).toBe(200);
    expect(body).toEqual(asset.files.get("240p/1.m4s"));
    const real = await mediaClient()(`/p/${token}/range-padded/240p/1.m4s`, { headers: { Range: "bytes=0-9" } });
    expect(real.res.status).toBe(206);
    expect(real.body).toEqual(asset.files.get("240p/1.m4s")!.slice(0, 10));
  });
});
