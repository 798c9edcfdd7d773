// Skip segments (lib/skip-segments.ts) in the manifests: an EXT-X-DATERANGE each in every HLS
// media playlist and a DASH EventStream, read back with real parsers (m3u8-parser, hls.js's
// own playlist parser, mpd-parser); loaded with the index from R2 and the Cache API, absent
// (manifests exactly as without the feature), malformed, failing, edited, and for a live event.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { XMLValidator } from "fast-xml-parser";
import { M3U8Parser, PlaylistLevelType } from "hls.js";
import { type MpdEvent, parse as parseMpd } from "mpd-parser";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LiveState } from "../../../lib/live/live-state.ts";
import type { RenditionIndex } from "../../../lib/media-index.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import {
  type PublishedSkipSegments,
  SKIP_DATERANGE_CLASS,
  SKIP_EVENT_SCHEME,
  skipSegmentKinds,
  type VisibleSkipSegment,
} from "../../../lib/skip-segments.ts";
import { seedSyntheticAsset, syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { IndexStore, TTL_MS } from "../delivery/index-store.ts";
import { dashManifest } from "../manifests/dash.ts";
import { mediaPlaylist, multivariantPlaylist, SKIP_EPOCH_MS, subtitlePlaylist } from "../manifests/hls.ts";
import { countingBucket, mediaClient, ORIGIN, parseHls, tokenFor } from "./helpers.ts";
import { R2Origin } from "../../../lib/media-origins/origins.ts";

/** A recap, an intro and the credits of a 60 s asset (30 segments of 2 s), off the segment boundaries. */
const EPISODE: VisibleSkipSegment[] = [
  { kind: "recap", startSec: 0, endSec: 5.5 },
  { kind: "intro", startSec: 10.25, endSec: 20.75 },
  { kind: "credits", startSec: 50, endSec: 60 },
];

const MEDIA_PLAYLISTS = ["240p/playlist.m3u8", "720p/playlist.m3u8", "audio-en/playlist.m3u8"];

async function seedEpisode(assetId: string, skip?: string | PublishedSkipSegments) {
  const asset = await seedSyntheticAsset(env.MEDIA, assetId, { segments: 30 });
  if (skip !== undefined) await env.MEDIA.put(mediaKeys.skipSegments(assetId), typeof skip === "string" ? skip : JSON.stringify(skip));
  return { asset, token: await tokenFor({ assetId }) };
}

/** Every manifest of the asset through the Worker, by path (each must be a 200). */
async function fetchManifests(get: ReturnType<typeof mediaClient>, assetId: string, token: string, overrides = {}) {
  const texts = new Map<string, string>();
  for (const path of ["master.m3u8", ...MEDIA_PLAYLISTS, "subs/en.m3u8", "manifest.mpd"]) {
    const { res, text } = await get(`/p/${token}/${assetId}/${path}`, {}, overrides);
    expect(res.status, path).toBe(200);
    texts.set(path, text());
  }
  return texts;
}

/** What the builders make of the index with `skip`: what the Worker must serve. */
function expectedManifests(index: RenditionIndex, skip: readonly VisibleSkipSegment[] = []) {
  return new Map([
    ["master.m3u8", multivariantPlaylist(index, 2160)],
    ...MEDIA_PLAYLISTS.map((path) => [path, mediaPlaylist(index, path.split("/")[0]!, undefined, skip)!] as const),
    ["subs/en.m3u8", subtitlePlaylist(index, "en")!],
    ["manifest.mpd", dashManifest(index, 2160, undefined, skip)],
  ]);
}

/** hls.js's own reading: each range's start on the media timeline, as a player gets it (`LevelDetails.dateRanges`). */
function hlsJsRanges(text: string) {
  const details = M3U8Parser.parseLevelPlaylist(text, `${ORIGIN}/p/t/a/240p/playlist.m3u8`, 0, PlaylistLevelType.MAIN, 0, null);
  return Object.values(details.dateRanges)
    .filter((range) => range !== undefined)
    .map((range) => {
      // Media time from the range's date and its anchor segment's: exact to float rounding.
      expect(Math.abs(range.startTime - Math.round(range.startTime * 1000) / 1000)).toBeLessThan(1e-9);
      return { id: range.id, class: range.class, startMs: Math.round(range.startTime * 1000), duration: range.duration, valid: range.isValid, kind: range.attr["X-KIND"] };
    })
    .sort((a, b) => a.startMs - b.startMs);
}

function mpdEvents(text: string): MpdEvent[] {
  expect(XMLValidator.validate(text)).toBe(true);
  return parseMpd(text, { manifestUri: `${ORIGIN}/p/t/a/manifest.mpd` }).eventStream ?? [];
}

/** A manifest without what skip segments add: HLS date-times and date ranges, the DASH EventStream. */
function withoutSkipTags(text: string): string {
  return text
    .replace(/^#EXT-X-(PROGRAM-DATE-TIME|DATERANGE):.*\n/gm, "")
    .replace(/^ *<EventStream [^>]*>\n(?: *<Event [^>]*\/>\n)* *<\/EventStream>\n/gm, "");
}

const ms = (sec: number) => Math.round(sec * 1000);
/** A span's length as the manifests state it (whole milliseconds). */
const spanSec = (s: VisibleSkipSegment) => (ms(s.endSec) - ms(s.startSec)) / 1000;

/** What every parser must read back for `spans`, in time order. */
function expectTags(text: string, spans: readonly VisibleSkipSegment[]) {
  const manifest = parseHls(text);
  expect(manifest.segments[0]!.programDateTime).toBe(SKIP_EPOCH_MS);
  expect(text.match(/^#EXT-X-PROGRAM-DATE-TIME:/gm)).toEqual(["#EXT-X-PROGRAM-DATE-TIME:"]);
  expect(text).toContain("#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:00.000Z\n");
  expect(manifest.dateRanges).toEqual(
    spans.map((s) => ({
      id: s.kind,
      class: SKIP_DATERANGE_CLASS,
      startDate: new Date(SKIP_EPOCH_MS + ms(s.startSec)),
      duration: spanSec(s),
      xKind: s.kind,
      xStartSec: s.startSec,
      xEndSec: s.endSec,
    })),
  );
  // Where RFC 8216 lets them be: media-segment tags, after EXT-X-MAP, before the first segment's URI.
  const lines = text.split("\n");
  const tagged = lines.flatMap((line, i) => (/^#EXT-X-(PROGRAM-DATE-TIME|DATERANGE):/.test(line) ? [i] : []));
  const map = lines.findIndex((line) => line.startsWith("#EXT-X-MAP:"));
  const firstInf = lines.findIndex((line) => line.startsWith("#EXTINF:"));
  expect(tagged).toEqual(Array.from({ length: spans.length + 1 }, (_, i) => map + 1 + i));
  expect(Math.max(...tagged)).toBeLessThan(firstInf);
  expect(hlsJsRanges(text)).toEqual(
    spans.map((s) => ({ id: s.kind, class: SKIP_DATERANGE_CLASS, startMs: ms(s.startSec), duration: spanSec(s), valid: true, kind: s.kind })),
  );
}

function expectEvents(mpd: string, spans: readonly VisibleSkipSegment[]) {
  const events = mpdEvents(mpd);
  expect(events.map(({ schemeIdUri, id, messageData }) => ({ schemeIdUri, id, messageData }))).toEqual(
    spans.map((s) => ({ schemeIdUri: SKIP_EVENT_SCHEME, id: String(skipSegmentKinds.indexOf(s.kind)), messageData: s.kind })),
  );
  events.forEach((event, i) => {
    expect(event.start).toBeCloseTo(spans[i]!.startSec, 9);
    expect(event.end).toBeCloseTo(spans[i]!.endSec, 9);
  });
  // Schema order inside the Period: EventStream before the first AdaptationSet.
  expect(mpd.indexOf("<Period ")).toBeLessThan(mpd.indexOf("<EventStream "));
  expect(mpd.indexOf("</EventStream>")).toBeLessThan(mpd.indexOf("<AdaptationSet "));
}

const NO_SKIP_TAGS = /#EXT-X-PROGRAM-DATE-TIME|#EXT-X-DATERANGE|<EventStream/;

describe("an asset with skip segments", () => {
  it("dates every media playlist from the fixed epoch and carries one EXT-X-DATERANGE per segment", async () => {
    const { token } = await seedEpisode("skip-hls", { version: 1, segments: EPISODE });
    const manifests = await fetchManifests(mediaClient(), "skip-hls", token);
    for (const path of MEDIA_PLAYLISTS) expectTags(manifests.get(path)!, EPISODE);
    expect(manifests.get(MEDIA_PLAYLISTS[0]!)).toContain(
      '#EXT-X-DATERANGE:ID="intro",CLASS="tv.marquee.skip",START-DATE="2000-01-01T00:00:10.250Z",DURATION=10.500,X-KIND="intro",X-START-SEC=10.250,X-END-SEC=20.750\n',
    );
    // The multivariant and subtitle playlists are as they were.
    for (const path of ["master.m3u8", "subs/en.m3u8"]) expect(manifests.get(path), path).not.toMatch(NO_SKIP_TAGS);
  });

  it("gives the MPD's Period one EventStream with an Event per segment, before its AdaptationSets", async () => {
    const { token } = await seedEpisode("skip-dash", { version: 1, segments: EPISODE });
    const { text } = await mediaClient()(`/p/${token}/skip-dash/manifest.mpd`);
    expectEvents(text(), EPISODE);
    expect(text()).toContain(
      [
        '    <EventStream schemeIdUri="urn:marquee:skip:2026" timescale="1000">',
        '      <Event presentationTime="0" duration="5500" id="0" messageData="recap"/>',
        '      <Event presentationTime="10250" duration="10500" id="1" messageData="intro"/>',
        '      <Event presentationTime="50000" duration="10000" id="2" messageData="credits"/>',
        "    </EventStream>",
      ].join("\n"),
    );
  });

  it("adds only those tags: without them every manifest is the one the asset had without segments", async () => {
    const { asset, token } = await seedEpisode("skip-only", { version: 1, segments: EPISODE });
    const served = await fetchManifests(mediaClient(), "skip-only", token);
    const plain = expectedManifests(asset.index);
    expect(served).toEqual(expectedManifests(asset.index, EPISODE));
    for (const [path, text] of served) expect(withoutSkipTags(text), path).toBe(plain.get(path));
  });

  it("puts them in the order of the media, whatever the object's order", async () => {
    const { token } = await seedEpisode("skip-order", { version: 1, segments: [...EPISODE].reverse() });
    const manifests = await fetchManifests(mediaClient(), "skip-order", token);
    expectTags(manifests.get("720p/playlist.m3u8")!, EPISODE);
    expectEvents(manifests.get("manifest.mpd")!, EPISODE);
  });

  it("gives a lower plan's token the events too, and no taller rendition", async () => {
    await seedEpisode("skip-ladder", { version: 1, segments: EPISODE });
    const token = await tokenFor({ assetId: "skip-ladder", maxHeight: 240 });
    const get = mediaClient();
    expect((await get(`/p/${token}/skip-ladder/720p/playlist.m3u8`)).res.status).toBe(403);
    const { text } = await get(`/p/${token}/skip-ladder/manifest.mpd`);
    expectEvents(text(), EPISODE);
    expect(text()).not.toContain('id="720p"');
  });

  it("never serves skip-segments.json itself: the index does not list it", async () => {
    const { token } = await seedEpisode("skip-file", { version: 1, segments: EPISODE });
    expect((await mediaClient()(`/p/${token}/skip-file/skip-segments.json`)).res.status).toBe(404);
  });
});

describe("an asset without skip segments", () => {
  const cases: [string, PublishedSkipSegments | undefined][] = [
    ["no skip-segments.json", undefined],
    ["an empty set", { version: 1, segments: [] }],
  ];
  for (const [name, skip] of cases) {
    it(`with ${name}, gets exactly the manifests it had before skip segments existed`, async () => {
      const assetId = `skip-none-${skip ? "empty" : "absent"}`;
      const { asset, token } = await seedEpisode(assetId, skip);
      const served = await fetchManifests(mediaClient(), assetId, token);
      expect(served).toEqual(expectedManifests(asset.index));
      for (const [path, text] of served) expect(text, path).not.toMatch(NO_SKIP_TAGS);
    });
  }

  it("costs one R2 read of skip-segments.json (and of replicas.json) per TTL: their absence is cached too", async () => {
    const { token } = await seedEpisode("skip-absent-reads");
    const first = countingBucket(env.MEDIA);
    await fetchManifests(mediaClient({ bucket: first.bucket }), "skip-absent-reads", token);
    expect(first.reads.sort()).toEqual([mediaKeys.index("skip-absent-reads"), mediaKeys.replicas("skip-absent-reads"), mediaKeys.skipSegments("skip-absent-reads")]);
    // Another isolate: both come from the Cache API.
    const second = countingBucket(env.MEDIA);
    await fetchManifests(mediaClient({ bucket: second.bucket }), "skip-absent-reads", token);
    expect(second.reads).toEqual([]);
  });
});

describe("a skip-segments.json that is not valid, or not as the api writes it", () => {
  const bad: [string, string][] = [
    ["not JSON", "{ not json"],
    ["another version", JSON.stringify({ version: 2, segments: EPISODE })],
    ["an unknown kind", JSON.stringify({ version: 1, segments: [{ kind: "opening", startSec: 1, endSec: 9 }] })],
    ["a negative time", JSON.stringify({ version: 1, segments: [{ kind: "intro", startSec: -1, endSec: 9 }] })],
    ["finer than milliseconds", JSON.stringify({ version: 1, segments: [{ kind: "intro", startSec: 1.0001, endSec: 9 }] })],
    ["a field of its own", JSON.stringify({ version: 1, segments: [{ kind: "intro", startSec: 1, endSec: 9, confidence: 1 }] })],
    ["null", "null"],
  ];
  bad.forEach(([name, body], i) => {
    it(`(${name}) is logged and counts as none: no tags, no 5xx`, async () => {
      const assetId = `skip-bad-${i}`;
      const { asset, token } = await seedEpisode(assetId, body);
      const warnings: string[] = [];
      const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
      try {
        const served = await fetchManifests(mediaClient(), assetId, token, { LOG_LEVEL: "warn" });
        expect(served).toEqual(expectedManifests(asset.index));
      } finally {
        spy.mockRestore();
      }
      const logged = warnings.map((line) => JSON.parse(line));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: "warn", event: "dependency_failed", dependency: "r2" });
      expect(logged[0].message).toContain(mediaKeys.skipSegments(assetId));
    });
  });

  const trimmed: [string, PublishedSkipSegments["segments"], VisibleSkipSegment[]][] = [
    [
      "a span that ends before it starts is dropped, one past the asset's end cut there",
      [
        { kind: "recap", startSec: 9, endSec: 3 },
        { kind: "credits", startSec: 55, endSec: 90 },
        { kind: "intro", startSec: 12, endSec: 20 },
      ],
      [
        { kind: "intro", startSec: 12, endSec: 20 },
        { kind: "credits", startSec: 55, endSec: 60 },
      ],
    ],
    [
      "a second span of a kind is dropped, and one that starts after the asset's end",
      [
        { kind: "intro", startSec: 30, endSec: 40 },
        { kind: "intro", startSec: 12, endSec: 20 },
        { kind: "credits", startSec: 60, endSec: 70 },
      ],
      [{ kind: "intro", startSec: 12, endSec: 20 }],
    ],
  ];
  trimmed.forEach(([name, segments, kept], i) => {
    it(name, async () => {
      const { token } = await seedEpisode(`skip-trim-${i}`, { version: 1, segments });
      const manifests = await fetchManifests(mediaClient(), `skip-trim-${i}`, token);
      expectTags(manifests.get("240p/playlist.m3u8")!, kept);
      expectEvents(manifests.get("manifest.mpd")!, kept);
    });
  });

  it("whose read fails serves the manifests without tags, and the next load reads it again", async () => {
    const { token } = await seedEpisode("skip-read-fails", { version: 1, segments: EPISODE });
    const failing = countingBucket(env.MEDIA, (key) => (key.endsWith("/skip-segments.json") ? Promise.reject(new Error("R2 is down")) : undefined));
    const during = await fetchManifests(mediaClient({ bucket: failing.bucket }), "skip-read-fails", token);
    for (const [path, text] of during) expect(text, path).not.toMatch(NO_SKIP_TAGS);
    // Tried once more, as every load read is.
    expect(failing.reads.filter((k) => k.endsWith("/skip-segments.json"))).toHaveLength(2);
    // Not cached as none: another isolate reads it (the index comes from the Cache API).
    const after = countingBucket(env.MEDIA);
    const served = await fetchManifests(mediaClient({ bucket: after.bucket }), "skip-read-fails", token);
    expect(after.reads).toEqual([mediaKeys.skipSegments("skip-read-fails")]);
    expectTags(served.get("240p/playlist.m3u8")!, EPISODE);
  });
});

describe("a media restart (runs) with skip segments", () => {
  it("dates each run in HLS, and puts each Event in the Period it starts in, cut at its end", async () => {
    const { index } = await syntheticAsset("skip-runs", { segments: 30, extras: false });
    // Segments 1..15 are one run, 16..30 another: Periods of 0–30 s and 30–60 s.
    for (const track of [...index.video, ...index.audio]) track.segments.runs = [{ startNumber: 1, startTime: 0 }, { startNumber: 16, startTime: 500_000 }];
    const skip: VisibleSkipSegment[] = [
      { kind: "intro", startSec: 20, endSec: 35 },
      { kind: "credits", startSec: 50, endSec: 60 },
    ];
    const playlist = mediaPlaylist(index, "240p", undefined, skip)!;
    expect(playlist.match(/^#EXT-X-PROGRAM-DATE-TIME:.*$/gm)).toEqual(["#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:00.000Z", "#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:30.000Z"]);
    expect(playlist).toContain("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:30.000Z\n#EXTINF:2.000000,\n16.m4s\n");
    expect(parseHls(playlist).segments.map((s) => s.programDateTime)).toEqual(Array.from({ length: 30 }, (_, i) => SKIP_EPOCH_MS + i * 2000));
    expect(hlsJsRanges(playlist).map((r) => [r.id, r.startMs, r.duration])).toEqual([["intro", 20_000, 15], ["credits", 50_000, 10]]);
    expect(withoutSkipTags(playlist)).toBe(mediaPlaylist(index, "240p"));

    const mpd = dashManifest(index, 2160, undefined, skip);
    expect(withoutSkipTags(mpd)).toBe(dashManifest(index, 2160));
    expect(mpd).toMatch(/<Period id="p0" start="PT0\.000S">\n {4}<EventStream [^>]*>\n {6}<Event presentationTime="20000" duration="10000" id="1" messageData="intro"\/>\n {4}<\/EventStream>/);
    expect(mpd).toMatch(/<Period id="p1" start="PT30\.000S">\n {4}<EventStream [^>]*>\n {6}<Event presentationTime="20000" duration="10000" id="2" messageData="credits"\/>\n {4}<\/EventStream>/);
    expect(mpdEvents(mpd).map((e) => [e.messageData, e.start, e.end])).toEqual([["intro", 20, 30], ["credits", 50, 60]]);
  });
});

describe("any valid set of skip segments", () => {
  // A fixed seed: the same cases on every run (the property is about the builders, not the data).
  const FIXED = { seed: 2026, numRuns: 150 } as const;

  /** Up to one of each kind, in kind order, not overlapping, in whole milliseconds, within `durationMs`. */
  const segmentSet = (durationMs: number) =>
    fc
      .subarray([...skipSegmentKinds])
      .chain((kinds) =>
        fc.uniqueArray(fc.integer({ min: 0, max: durationMs }), { minLength: 2 * kinds.length, maxLength: 2 * kinds.length }).map((times) => {
          const sorted = [...times].sort((a, b) => a - b);
          return kinds.map((kind, i) => ({ kind, startSec: sorted[2 * i]! / 1000, endSec: sorted[2 * i + 1]! / 1000 }));
        }),
      );

  it("round-trips through every parser, and leaves each manifest as it was but for its tags", async () => {
    const indexes = await Promise.all([3, 17, 200].map((n) => syntheticAsset(`skip-prop-${n}`, { segments: n, extras: false }).then((a) => a.index)));
    fc.assert(
      fc.property(
        fc.constantFrom(...indexes).chain((index) => fc.tuple(fc.constant(index), segmentSet(ms(index.durationSec)))),
        ([index, skip]) => {
          for (const track of [...index.video, ...index.audio]) {
            const playlist = mediaPlaylist(index, track.id, undefined, skip)!;
            expect(withoutSkipTags(playlist)).toBe(mediaPlaylist(index, track.id));
            if (skip.length === 0) continue;
            expectTags(playlist, skip);
          }
          const mpd = dashManifest(index, 2160, undefined, skip);
          expect(withoutSkipTags(mpd)).toBe(dashManifest(index, 2160));
          if (skip.length > 0) expectEvents(mpd, skip);
          else expect(mpd).not.toMatch(NO_SKIP_TAGS);
        },
      ),
      FIXED,
    );
  });
});

// ---------------------------------------------------------------- the load path, on a clock

/** A Cache API stand-in whose entries expire by their max-age on the (mocked) Date.now. */
function clockedCache() {
  const entries = new Map<string, { body: string; headers: Headers; expires: number }>();
  const cache = {
    async match(key: string) {
      const entry = entries.get(key);
      return entry && entry.expires > Date.now() ? new Response(entry.body, { headers: entry.headers }) : undefined;
    },
    async put(key: string, res: Response) {
      const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1] ?? 0);
      entries.set(key, { body: await res.text(), headers: new Headers(res.headers), expires: Date.now() + maxAge * 1000 });
    },
    async delete(key: string) {
      return entries.delete(key);
    },
  };
  return cache as unknown as Cache;
}

/** One isolate's IndexStore over the shared bucket and cache, each load's cache fills awaited. */
function isolate(bucket: R2Bucket, cache: Cache) {
  const store = new IndexStore();
  return async (assetId: string) => {
    const pending: Promise<unknown>[] = [];
    const value = await store.get([new R2Origin("p", "MEDIA", bucket)], cache, ORIGIN, assetId, (p) => void pending.push(p));
    await Promise.all(pending);
    return value;
  };
}

describe("loading skip segments with the index", () => {
  let clock = Date.UTC(2026, 5, 1);
  const at = (sec: number) => (clock = Date.UTC(2026, 5, 1) + sec * 1000);
  const kinds = (value: { skip: VisibleSkipSegment[] } | null) => value?.skip.map((s) => `${s.kind}@${s.startSec}`);
  beforeEach(() => {
    at(0);
    vi.spyOn(Date, "now").mockImplementation(() => clock);
  });
  afterEach(() => void vi.restoreAllMocks());

  it("shows an edit once this isolate's copy and the Cache API's have expired: within two TTLs", async () => {
    await seedEpisode("skip-edit", { version: 1, segments: [EPISODE[1]!] });
    const cache = clockedCache();
    const { bucket, reads } = countingBucket(env.MEDIA);
    const first = isolate(bucket, cache);
    const second = isolate(bucket, cache);
    at(0);
    expect(kinds(await first("skip-edit"))).toEqual(["intro@10.25"]);
    await env.MEDIA.put(mediaKeys.skipSegments("skip-edit"), JSON.stringify({ version: 1, segments: [{ kind: "intro", startSec: 12, endSec: 30 }] }));
    // Another isolate just before the Cache API's copy expires: it keeps that copy a whole TTL.
    at(TTL_MS / 1000 - 1);
    expect(kinds(await second("skip-edit"))).toEqual(["intro@10.25"]);
    expect(kinds(await first("skip-edit"))).toEqual(["intro@10.25"]);
    // The TTL has passed: the first isolate reads R2 again.
    at(TTL_MS / 1000 + 1);
    expect(kinds(await first("skip-edit"))).toEqual(["intro@12"]);
    expect(kinds(await second("skip-edit"))).toEqual(["intro@10.25"]);
    // The longest an edit can take: the TTL of a copy taken just before the Cache API's expired.
    at((2 * TTL_MS) / 1000 - 2);
    expect(kinds(await second("skip-edit"))).toEqual(["intro@10.25"]);
    at((2 * TTL_MS) / 1000);
    expect(kinds(await second("skip-edit"))).toEqual(["intro@12"]);
    expect(reads.filter((k) => k === mediaKeys.skipSegments("skip-edit"))).toHaveLength(2);
  });

  it("reads the index and the skip segments once for concurrent loads (one read in flight)", async () => {
    await seedEpisode("skip-flight", { version: 1, segments: EPISODE });
    const { bucket, reads } = countingBucket(env.MEDIA);
    const store = new IndexStore();
    const cache = clockedCache();
    const pending: Promise<unknown>[] = [];
    const values = await Promise.all(Array.from({ length: 12 }, () => store.get([new R2Origin("p", "MEDIA", bucket)], cache, ORIGIN, "skip-flight", (p) => void pending.push(p))));
    await Promise.all(pending);
    expect(new Set(values).size).toBe(1);
    expect(values[0]!.skip).toEqual(EPISODE);
    expect(reads.sort()).toEqual([mediaKeys.index("skip-flight"), mediaKeys.skipSegments("skip-flight")]);
  });

  it("gives a live window none, without reading them; the recording gets them once the event ends", async () => {
    const assetId = "live-0123456789abcdef01234567";
    const { index } = await syntheticAsset(assetId, { heights: [240], audio: false, extras: false });
    const state: LiveState = {
      version: 1,
      liveId: assetId,
      assetId,
      writtenAtMs: clock,
      startedAtMs: clock - 6000,
      targetDurationSec: 2,
      dvrWindowSec: 60,
      discontinuitySequence: 0,
      runStartsMs: [{ startNumber: 1, pdtMs: clock - 6000 }],
      video: index.video.map((track) => ({ ...track, init: { bytes: 64, sha256: "0".repeat(64) } })),
      audio: [],
    };
    await env.MEDIA.put(mediaKeys.live(assetId), JSON.stringify(state));
    await env.MEDIA.put(mediaKeys.skipSegments(assetId), JSON.stringify({ version: 1, segments: [EPISODE[1]] }));
    const { bucket, reads } = countingBucket(env.MEDIA);
    const load = isolate(bucket, clockedCache());
    at(0);
    const live = await load(assetId);
    expect(live!.live).not.toBeNull();
    expect(live!.skip).toEqual([]);
    expect(reads).toEqual([mediaKeys.live(assetId)]);
    // The live playlist is the one it always was: the broadcast's date-times, no ranges.
    expect(mediaPlaylist(live!.index, "240p", { targetDurationSec: 2, discontinuitySequence: 0, runStartsMs: state.runStartsMs }, live!.skip)).not.toContain("#EXT-X-DATERANGE");
    // The event ends: its object writes index.json, then deletes live.json.
    await env.MEDIA.put(mediaKeys.index(assetId), JSON.stringify(index));
    await env.MEDIA.delete(mediaKeys.live(assetId));
    at(2);
    const recording = await load(assetId);
    expect(recording!.live).toBeNull();
    expect(recording!.skip).toEqual([EPISODE[1]]);
  });
});
