// Intro, recap and credits through the api in workerd: the admin GET/PUT (manual edits
// win over detection, atomically, under a parallel burst), what a bad body changes
// (nothing), the R2 object the media Worker reads, the stored analysis, the play
// response, the profile setting, and the segment watch events.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { encodeFingerprint, type EpisodeAnalysis, publishedSkipSegmentsSchema } from "../../../lib/skip-segments.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { seedCatalog } from "../../../tools/seed/demo-catalog.ts";
import { api, putJson } from "./admin-client.ts";
import { call } from "./auth-client.ts";
import { eventually, fromStreams, scalar, watchEvent } from "./events-client.ts";
import { memberOn, startPlayback, started, stopPlayback } from "./playback-client.ts";
import { shardDbOf } from "./events-client.ts";

// Two 80 s episodes and an 80 s film, each its own asset.
const seeded = await Promise.all(["skip-ep1", "skip-ep2", "skip-film"].map((id) => seedSyntheticAsset(env.MEDIA, id, { segments: 40, segmentBytes: 3 })));
await seedCatalog(
  env.DB,
  {
    genres: [],
    people: [],
    titles: [
      {
        id: "skippable",
        kind: "series",
        name: "Skippable",
        synopsis: "Again and again.",
        releaseYear: 2026,
        maturityRating: "TV-PG",
        popularity: 1,
        assetId: null,
        genres: [],
        credits: [],
        seasons: [
          {
            number: 1,
            name: "Season 1",
            episodes: [
              { number: 1, name: "One", synopsis: "1", assetId: "skip-ep1" },
              { number: 2, name: "Two", synopsis: "2", assetId: "skip-ep2" },
              { number: 3, name: "Three", synopsis: "3", assetId: null },
            ],
          },
        ],
      },
      { id: "skip-film", kind: "movie", name: "Skip Film", synopsis: "A film.", releaseYear: 2026, maturityRating: "PG", popularity: 1, assetId: "skip-film", genres: [], credits: [] },
    ],
  },
  seeded.map((a) => a.index),
  new Date(),
);

const ep = (n: number) => `/v1/admin/titles/skippable/seasons/1/episodes/${n}/segments`;
const intro = { kind: "intro", startSec: 5, endSec: 20.5 };
const credits = { kind: "credits", startSec: 70, endSec: 80 };

type Stored = { assetId: string; segments: { kind: string; startSec: number; endSec: number; source: string; confidence: number; visible: boolean }[] };

async function get(path: string): Promise<Stored> {
  const res = await api(path);
  expect(res.status).toBe(200);
  return (await res.json()) as Stored;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(errorBodySchema.parse(await res.json()).error.code).toBe(code);
}

async function published(assetId: string) {
  const object = await env.MEDIA.get(mediaKeys.skipSegments(assetId));
  return object ? publishedSkipSegmentsSchema.parse(await object.json()) : null;
}

describe("GET/PUT /v1/admin/titles/{id}/seasons/{s}/episodes/{e}/segments", () => {
  it("stores an operator's segments, answers them, and publishes them for the manifests", async () => {
    expect(await get(ep(1))).toEqual({ assetId: "skip-ep1", segments: [] });
    const res = await putJson(ep(1), { segments: [credits, intro] });
    expect(res.status).toBe(200);
    const stored = (await res.json()) as Stored;
    expect(stored.segments).toEqual([
      { ...intro, source: "manual", confidence: 1, visible: true },
      { ...credits, source: "manual", confidence: 1, visible: true },
    ]);
    expect(await get(ep(1))).toEqual(stored);
    expect(await published("skip-ep1")).toEqual({ version: 1, segments: [intro, credits] });
  });

  it("a detected PUT never replaces or removes a manual segment, and low confidence is kept but not shown", async () => {
    await putJson(ep(2), { segments: [intro] });
    const res = await putJson(ep(2), {
      source: "detected",
      segments: [
        { kind: "intro", startSec: 6, endSec: 21, confidence: 0.9 },
        { kind: "recap", startSec: 0, endSec: 4, confidence: 0.3 },
        { kind: "credits", startSec: 71, endSec: 80, confidence: 0.8 },
      ],
    });
    expect(res.status).toBe(200);
    const after = await get(ep(2));
    expect(after.segments).toEqual([
      { kind: "recap", startSec: 0, endSec: 4, source: "detected", confidence: 0.3, visible: false },
      { ...intro, source: "manual", confidence: 1, visible: true },
      { kind: "credits", startSec: 71, endSec: 80, source: "detected", confidence: 0.8, visible: true },
    ]);
    expect((await published("skip-ep2"))!.segments.map((s) => s.kind)).toEqual(["intro", "credits"]);
    // Detection run again, finding no credits this time: its old credits go, the manual intro stays.
    await putJson(ep(2), { source: "detected", segments: [] });
    expect((await get(ep(2))).segments.map((s) => `${s.kind}:${s.source}`)).toEqual(["intro:manual"]);
    // An operator's PUT replaces the whole set.
    await putJson(ep(2), { segments: [] });
    expect((await get(ep(2))).segments).toEqual([]);
    expect(await published("skip-ep2")).toEqual({ version: 1, segments: [] });
  });

  it("under a parallel burst of detected PUTs, the operator's edit is what stays", async () => {
    const manual = { kind: "intro", startSec: 8, endSec: 25 };
    const burst = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => putJson(ep(2), { source: "detected", segments: [{ kind: "intro", startSec: 1 + i, endSec: 30, confidence: 0.9 }] })),
      putJson(ep(2), { segments: [manual] }),
      ...Array.from({ length: 12 }, (_, i) => putJson(ep(2), { source: "detected", segments: [{ kind: "intro", startSec: 2 + i, endSec: 31, confidence: 0.9 }] })),
    ]);
    expect(burst.map((r) => r.status)).toEqual(burst.map(() => 200));
    const after = await get(ep(2));
    // Detected PUTs before the manual one were overwritten by it; those after it left it alone.
    expect(after.segments).toEqual([{ ...manual, source: "manual", confidence: 1, visible: true }]);
    expect((await published("skip-ep2"))!.segments).toEqual([manual]);
    await putJson(ep(2), { segments: [] });
  });

  it("refuses bad bodies with a clear 400 and changes nothing", async () => {
    await putJson(ep(1), { segments: [intro] });
    const before = await get(ep(1));
    const bad = [
      { segments: [intro, { ...intro, startSec: 30, endSec: 40 }] }, // a kind twice
      { segments: [intro, { kind: "recap", startSec: 10, endSec: 30 }] }, // overlapping
      { segments: [{ kind: "credits", startSec: 70, endSec: 95 }] }, // past the video's 80 s
      { segments: [{ kind: "intro", startSec: 20, endSec: 10 }] }, // backwards
      { segments: [{ kind: "intro", startSec: 10, endSec: 11 }] }, // shorter than 2 s
      { segments: [{ kind: "intro", startSec: 10.0001, endSec: 20 }] }, // finer than a millisecond
      { segments: [{ kind: "outro", startSec: 10, endSec: 20 }] },
      { segments: [{ ...intro, extra: true }] },
      { segments: [intro], source: "guessed" },
      { segments: [{ kind: "intro", startSec: -1, endSec: 20 }] },
      { segments: [{ kind: "intro", startSec: 1, endSec: Number.MAX_VALUE }] },
      { segments: "intro" },
      {},
    ];
    for (const body of bad) await expectError(await putJson(ep(1), body), 400, "VALIDATION_FAILED");
    await expectError(await api(ep(1), { method: "PUT", body: "{", headers: { "content-type": "application/json" } }), 400, "BAD_REQUEST");
    expect(await get(ep(1))).toEqual(before);
    expect((await published("skip-ep1"))!.segments).toEqual([intro]);
  });

  it("names what is missing: no episode, no video yet, a series asked as a film, no admin token", async () => {
    await expectError(await api(ep(9)), 404, "NOT_FOUND");
    await expectError(await api("/v1/admin/titles/nope/seasons/1/episodes/1/segments"), 404, "NOT_FOUND");
    const noVideo = await api(ep(3));
    expect(noVideo.status).toBe(404);
    expect(((await noVideo.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe("no_video");
    await expectError(await api("/v1/admin/titles/skippable/segments"), 404, "NOT_FOUND");
    await expectError(await api(ep(1), {}, {}), 401, "UNAUTHORIZED");
    await expectError(await api("/v1/admin/titles/skippable/seasons/0/episodes/1/segments"), 400, "VALIDATION_FAILED");
  });

  it("a film has segments of its own", async () => {
    const res = await putJson("/v1/admin/titles/skip-film/segments", { segments: [credits] });
    expect(res.status).toBe(200);
    expect((await get("/v1/admin/titles/skip-film/segments")).segments).toEqual([{ ...credits, source: "manual", confidence: 1, visible: true }]);
  });
});

describe("PUT/GET /v1/admin/assets/{id}/analysis", () => {
  const analysis = (o: Partial<EpisodeAnalysis> = {}): EpisodeAnalysis => ({
    version: 1,
    assetId: "skip-ep1",
    durationSec: 80,
    fingerprint: {
      algorithm: "chromaprint",
      itemSec: 0.1238,
      head: { startSec: 0, data: encodeFingerprint(Uint32Array.from([1, 2, 3, 0xffffffff])) },
      tail: { startSec: 60, data: encodeFingerprint(Uint32Array.from([4, 5])) },
    },
    darkSpans: [{ startSec: 70, endSec: 80 }],
    sceneChanges: [70],
    ...o,
  });

  it("keeps an asset's analysis for detection to run again, and gives it back as stored", async () => {
    const res = await putJson("/v1/admin/assets/skip-ep1/analysis", analysis());
    expect(res.status).toBe(204);
    const back = await api("/v1/admin/assets/skip-ep1/analysis");
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual(analysis());
  });

  it("refuses another asset's analysis, a non-canonical or ragged fingerprint, and an unknown asset", async () => {
    await expectError(await putJson("/v1/admin/assets/skip-ep1/analysis", analysis({ assetId: "skip-ep2" })), 400, "VALIDATION_FAILED");
    const withData = (data: string) => analysis({ fingerprint: { ...analysis().fingerprint, head: { startSec: 0, data } } });
    // Five bytes is not a whole number of 32-bit items; "AB" has bits set past its last byte; "+/" is not base64url.
    for (const data of [encodeFingerprint(Uint32Array.from([1])) + "AA", "AB", "ab+/"]) {
      await expectError(await putJson("/v1/admin/assets/skip-ep1/analysis", withData(data)), 400, "VALIDATION_FAILED");
    }
    await expectError(await putJson("/v1/admin/assets/no-such-asset/analysis", analysis({ assetId: "no-such-asset" })), 404, "NOT_FOUND");
    await expectError(await api("/v1/admin/assets/skip-ep2/analysis"), 404, "NOT_FOUND");
  });
});

describe("the play response and the profile", () => {
  it("carries the visible segments and the profile's auto-skip setting; into the credits counts as watched", async () => {
    await putJson(ep(1), { segments: [intro, credits] });
    await putJson(ep(2), { source: "detected", segments: [{ kind: "intro", startSec: 6, endSec: 21, confidence: 0.2 }] });
    const m = await memberOn("standard");
    const s = await started(await startPlayback(m.headers, { titleId: "skippable", episodeId: "skippable-s1e1", profileId: m.profileId }));
    expect(s.skipSegments).toEqual([intro, credits]);
    expect(s.autoSkip).toBe(false);
    await stopPlayback(m.headers, s.id);
    const s2 = await started(await startPlayback(m.headers, { titleId: "skippable", episodeId: "skippable-s1e2", profileId: m.profileId }));
    expect(s2.skipSegments).toEqual([]);
    await stopPlayback(m.headers, s2.id);

    const patch = await call(`/v1/profiles/${m.profileId}`, { method: "PATCH", headers: m.headers, json: { autoSkipIntros: true } });
    expect(patch.status).toBe(200);
    expect(((await patch.json()) as { autoSkipIntros: boolean }).autoSkipIntros).toBe(true);
    const again = await started(await startPlayback(m.headers, { titleId: "skippable", episodeId: "skippable-s1e1", profileId: m.profileId }));
    expect(again.autoSkip).toBe(true);
    await stopPlayback(m.headers, again.id);

    // At 72 s of 80 the episode is only 90 % watched, but inside its credits: Play goes on to episode 2.
    const at = Date.now();
    await shardDbOf(m.profileId)
      .prepare(`INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at) VALUES (?1, 'skippable', 'skippable-s1e1', 72, 80, 0, ?2, ?2)`)
      .bind(m.profileId, at)
      .run();
    const next = await started(await startPlayback(m.headers, { titleId: "skippable", profileId: m.profileId }));
    expect(next.episodeId).toBe("skippable-s1e2");
    expect(next.resume.positionSec).toBe(0);
  });

  it("takes segment watch events, and refuses a segment event without its segment (or a segment on another event)", async () => {
    const m = await memberOn("standard");
    const base = { titleId: "skippable", episodeId: "skippable-s1e1", durationSec: 80 };
    const [skipped, watched] = await fromStreams(m.accountId, [
      watchEvent(m.profileId, { ...base, type: "segment_skipped", segment: "intro", positionSec: 6 }),
      watchEvent(m.profileId, { ...base, type: "segment_watched", segment: "credits", positionSec: 80 }),
    ]);
    const res = await call("/v1/events", { headers: m.headers, json: { events: [skipped, watched] } });
    expect(res.status).toBe(202);
    await eventually(async () => {
      const n = await scalar(`SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ? AND segment IS NOT NULL`, m.profileId);
      if (n !== 2) throw new Error(`${n} of 2 landed`);
    });
    expect(await scalar(`SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ? AND type = 'segment_skipped' AND segment = 'intro'`, m.profileId)).toBe(1);

    const [noSegment, stray] = await fromStreams(m.accountId, [
      watchEvent(m.profileId, { ...base, type: "segment_skipped" }),
      watchEvent(m.profileId, { ...base, type: "seek", segment: "intro" }),
    ]);
    for (const e of [noSegment, stray]) await expectError(await call("/v1/events", { headers: m.headers, json: { events: [e] } }), 400, "VALIDATION_FAILED");
  }, 30_000);
});
