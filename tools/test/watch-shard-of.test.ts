// lib/watch-shard-of.ts: the shard of a profile is FNV-1a 32 of its UTF-8 id mod N — the
// same number in the api Worker and the Node tools, for ever (a changed value would move
// profiles' data) — and EVENT_SHARDS is read strictly.
import { describe, expect, it } from "vitest";
import { fnv1a32, MAX_SHARDS, shardCount, shardOf } from "../../lib/watch-shard-of.ts";

describe("fnv1a32", () => {
  it("gives FNV-1a's published 32-bit values", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes the UTF-8 bytes, not UTF-16 code units, and is unsigned", () => {
    expect(fnv1a32("Zoë")).toBe(0xc2a2bddc);
    expect(fnv1a32("名前")).toBe(0x0073e150);
    expect(fnv1a32("prf_1")).toBe(0xc32e4b4f); // above 2^31: still positive
  });
});

describe("shardOf", () => {
  it("is stable: known profiles stay on their shards", () => {
    const known: [string, number, number, number][] = [
      // profile id, shard of 2, of 16, of 64
      ["prf_1", 1, 15, 15],
      ["prf_2", 0, 2, 34],
      ["prf_01J9ZQ6V8T3K4M5N6P7Q8R9S0T", 1, 13, 13],
      ["Zoë", 0, 12, 28],
      ["", 1, 5, 5],
    ];
    for (const [id, two, sixteen, sixtyFour] of known) {
      expect([shardOf(id, 2), shardOf(id, 16), shardOf(id, 64)], id).toEqual([two, sixteen, sixtyFour]);
    }
    expect(shardOf("prf_1", 1)).toBe(0);
  });

  it("spreads profiles evenly across the shards", () => {
    // Ids shaped like workers/api/profiles (prf_ and 16 base-36 characters).
    const ids = Array.from({ length: 20_000 }, (_, i) => `prf_${(i * 2654435761).toString(36).padStart(16, "0").slice(-16)}`);
    for (const n of [2, 3, 16, 64]) {
      const counts = new Array<number>(n).fill(0);
      for (const id of ids) counts[shardOf(id, n)]!++;
      const expected = ids.length / n;
      // Each shard within 15 % of its share (binomial sd is ~5 % at n = 64).
      for (const c of counts) expect(Math.abs(c - expected) / expected, `${n} shards: ${counts.join(",")}`).toBeLessThan(0.15);
    }
  });

  it("refuses a shard count out of range", () => {
    for (const n of [0, -1, 1.5, MAX_SHARDS + 1, Number.NaN]) expect(() => shardOf("prf_1", n)).toThrow(/shard count must be a whole number from 1 to 64/);
  });
});

describe("shardCount", () => {
  it("reads a plain decimal from 1 to 64", () => {
    expect(["1", "2", "9", "10", "16", "64"].map(shardCount)).toEqual([1, 2, 9, 10, 16, 64]);
  });

  it("refuses everything else, saying what it got", () => {
    for (const bad of ["0", "65", "100", "02", " 2", "2 ", "+2", "-1", "2.0", "1e1", "0x10", "", "two", "١٦"]) {
      expect(() => shardCount(bad), JSON.stringify(bad)).toThrow(`EVENT_SHARDS must be a whole number from 1 to 64 written plainly (e.g. "2"), not ${JSON.stringify(bad)}`);
    }
    expect(() => shardCount(undefined)).toThrow(/EVENT_SHARDS is not set/);
  });
});
