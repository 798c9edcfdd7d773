// The live ingest's decoders under random and mutated input (fast-check): the fMP4 box
// walker and the playlist reader either answer or throw their own error, never anything
// else, never a number that is not one; a playlist they make themselves reads back the
// same; and mutated uploads through the route with a valid token are 4xx or stored, never a 500.
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { ingestPlaylist, initSegment, mediaSegment } from "../../../test-support/synthetic-fmp4.ts";
import { Fmp4Error, parseInit, parseSegment } from "../live/fmp4.ts";
import { parseIngestPlaylist, PlaylistError } from "../live/ingest-playlist.ts";
import { api } from "./admin-client.ts";

const RUNS = 500;

/** A valid file with some bytes changed, cut, or grown: what a broken or hostile encoder sends. */
const mutated = (valid: Uint8Array) =>
  fc
    .record({
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 64 }),
    })
    .map(({ edits, cut, extra }) => {
      const out = new Uint8Array([...valid.subarray(0, cut === undefined ? valid.length : cut % (valid.length + 1)), ...extra]);
      for (const [at, byte] of edits) if (out.length > 0) out[at % out.length] = byte;
      return out;
    });

const init = initSegment({ kind: "video", width: 640, height: 360 });
const audioInit = initSegment({ kind: "audio" });
const segment = mediaSegment({ sequence: 1, decodeTime: 123_456, samples: 30, sampleDuration: 1024 });

function onlyOwnErrors(fn: () => unknown, own: new (...args: never[]) => Error) {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof own)) throw err;
    return null;
  }
}

describe("the fMP4 walker", () => {
  it("reads an init segment or throws Fmp4Error, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated(init), mutated(audioInit)), (bytes) => {
        const track = onlyOwnErrors(() => parseInit(bytes), Fmp4Error) as ReturnType<typeof parseInit> | null;
        if (track) {
          expect(Number.isInteger(track.timescale) && track.timescale > 0).toBe(true);
          expect(track.codecs).toMatch(/^(avc[13]\.[0-9a-f]{6}|mp4a\.40\.\d{1,2})$/);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("reads a media segment or throws Fmp4Error, with a finite decode time and positive sample count", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated(segment)), (bytes) => {
        const read = onlyOwnErrors(() => parseSegment(bytes, 1024), Fmp4Error) as ReturnType<typeof parseSegment> | null;
        if (read) {
          expect(Number.isSafeInteger(read.decodeTime) && read.decodeTime >= 0).toBe(true);
          expect(read.samples).toBeGreaterThan(0);
          if (read.duration !== null) expect(Number.isSafeInteger(read.duration) && read.duration > 0).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("reads what it was given exactly", () => {
    expect(parseInit(init)).toEqual({ kind: "video", codecs: "avc1.64001f", width: 640, height: 360, timescale: 15360, sampleDuration: 0 });
    expect(parseInit(audioInit)).toEqual({ kind: "audio", codecs: "mp4a.40.2", channels: 2, sampleRate: 48000, timescale: 48000, sampleDuration: 0 });
    expect(parseSegment(segment)).toEqual({ decodeTime: 123_456, samples: 30, duration: 30 * 1024 });
  });
});

describe("the ingest playlist reader", () => {
  const entry = fc.record({ n: fc.integer({ min: 0, max: 99_999_999 }), durationSec: fc.integer({ min: 1, max: 10_000_000 }).map((us) => us / 1_000_000), pdtMs: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: undefined }) });

  it("reads back what ffmpeg's format writes", () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), fc.boolean(), (entries, ended) => {
        const read = parseIngestPlaylist(ingestPlaylist(entries, ended));
        expect(read.ended).toBe(ended);
        expect(read.entries).toEqual(entries.map((e) => ({ n: e.n, durationSec: Number(e.durationSec.toFixed(6)), pdtMs: e.pdtMs ?? null })));
      }),
      { numRuns: RUNS },
    );
  });

  it("answers or throws PlaylistError on any text, and every segment number it answers is canonical", () => {
    const valid = ingestPlaylist([{ n: 0, durationSec: 2 }, { n: 1, durationSec: 2, pdtMs: Date.now() }]);
    const lines = fc.array(fc.oneof(fc.constantFrom("#EXTM3U", "#EXTINF:2.000000,", "#EXTINF:-1,", "#EXTINF:1e3,", "0.m4s", "01.m4s", "../0.m4s", "#EXT-X-PROGRAM-DATE-TIME:2026-13-99T00:00:00Z", "#EXT-X-ENDLIST", ""), fc.string({ maxLength: 40 })), { maxLength: 30 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 2000 }), lines.map((l) => l.join("\n")), mutated(new TextEncoder().encode(valid)).map((b) => new TextDecoder().decode(b))), (text) => {
        const read = onlyOwnErrors(() => parseIngestPlaylist(text), PlaylistError) as ReturnType<typeof parseIngestPlaylist> | null;
        for (const e of read?.entries ?? []) {
          expect(String(e.n)).toMatch(/^(0|[1-9]\d{0,7})$/);
          expect(e.durationSec).toBeGreaterThan(0);
          if (e.pdtMs !== null) expect(Number.isFinite(e.pdtMs)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("mutated uploads through the route", () => {
  it("are stored or refused with a 4xx in the standard body, never a 500", async () => {
    const res = await api("/v1/admin/live", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Fuzz live", ladder: [{ name: "v", kind: "video", width: 640, height: 360, bitrateKbps: 500 }] }) });
    const live = (await res.json()) as { ingest: { baseUrl: string; token: string } };
    const put = (path: string, body: Uint8Array) => exports.default.fetch(`${live.ingest.baseUrl}${path}`, { method: "PUT", body, headers: { Authorization: `Bearer ${live.ingest.token}` } });
    expect((await put("v/init_0.mp4", init)).status).toBe(201);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("v/init_0.mp4", "v/0.m4s", "v/1.m4s", "v/index.m3u8"), fc.oneof(mutated(init), mutated(segment), fc.uint8Array({ maxLength: 512 })), async (path, body) => {
        const r = await put(path, body);
        const text = await r.text();
        expect(r.status, text).toBeLessThan(500);
        if (r.status >= 400) expect(errorBodySchema.safeParse(JSON.parse(text)).success).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
