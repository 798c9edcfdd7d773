// Property-based fuzzing (fast-check) of the playback, events, viewing, home, My List and
// ratings routes: malformed bodies, queries and path segments — values of the wrong type,
// near-misses of their schemas, random bytes — each answered with a 4xx in the standard
// error body, never a 500, and nothing written.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { parsePlaybackKeys } from "../../../lib/playback-token.ts";
import { eventBatchSchema, type WatchEvent } from "../../../lib/watch-events.ts";
import { verifyStreamId } from "../playback/stream-ids.ts";
import { streamIdFor } from "./events-client.ts";
import { call } from "./auth-client.ts";
import { memberOn, seedPlayableCatalog, streamsObject } from "./playback-client.ts";

await seedPlayableCatalog();
const m = await memberOn("premium");
const RUNS = 1000;

/** Rows in every table these routes write, and the account's live streams. */
async function writes() {
  const tables = ["watch_progress", "watch_history", "profile_list", "profile_ratings", "watch_events", "title_plays_daily"];
  const counts = await env.DB.batch(tables.map((t) => env.DB.prepare(`SELECT COUNT(*) AS n FROM ${t}`)));
  const streams = await streamsObject(m.accountId).list(Date.now());
  return { ...Object.fromEntries(tables.map((t, i) => [t, (counts[i]!.results[0] as { n: number }).n])), streams: streams.length };
}

/** The statuses seen, so a test can check it reached the routes' own checks (a signed-in caller is never a 401). */
const seen = new Map<number, number>();

async function expectRefused(res: Response, what: string) {
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  const text = await res.text();
  expect(res.status, `${what} -> ${res.status} ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what} -> ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
  const body = errorBodySchema.safeParse(JSON.parse(text));
  expect(body.success, `${what}: not the standard error body: ${text.slice(0, 200)}`).toBe(true);
}

/** Anything JSON can carry, including near-misses: wrong types, huge and negative numbers, nested junk. */
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, -1, 1e308, "", "first-light", "pbs_x", "../../etc/passwd", "prf_" + "a".repeat(60)),
);

/** A body that fails its schema: random objects, or a valid-looking one with one field broken. */
const badObject = (valid: Record<string, unknown>) =>
  fc.oneof(
    fc.dictionary(fc.string({ maxLength: 12 }), junk, { maxKeys: 6 }),
    fc.tuple(fc.constantFrom(...Object.keys(valid), "extra"), junk).map(([k, v]) => ({ ...valid, [k]: v })),
    fc.constantFrom(...Object.keys(valid)).map((k) => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== k))),
  );

/** Raw bytes as a body, with a JSON content type: not JSON at all, or truncated JSON. */
const rawBody = fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => new TextDecoder().decode(b)), fc.string({ maxLength: 200 }).map((s) => `{"titleId": ${s}`));

async function raw(method: string, path: string, body: string) {
  const { exports } = await import("cloudflare:workers");
  return exports.default.fetch(`https://marquee.test${path}`, { method, headers: { ...m.headers, "content-type": "application/json" }, body });
}

/** A path segment that is not a valid id of its kind: too long, wrong shape, or odd bytes. */
const badSegment = fc.oneof(fc.string({ minLength: 65, maxLength: 120 }).filter((s) => !s.includes("/") && !s.includes("?") && !s.includes("#")), fc.constantFrom("pbs_", "pbs_short", "x y", "%00", "..%2F..", "pbs_" + "z".repeat(70)));

describe("fuzzed requests get a 4xx in the standard body and change nothing", () => {
  beforeEach(() => seen.clear());
  afterEach(() => {
    // Every request got past authentication to the route's own checks, and more than one kind of refusal came back.
    expect(seen.has(401), JSON.stringify([...seen])).toBe(false);
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(RUNS * 0.5);
    expect(seen.size, JSON.stringify([...seen])).toBeGreaterThanOrEqual(2);
  });

  it("POST /v1/playback/sessions", async () => {
    const before = await writes();
    const valid = { titleId: "first-light", profileId: m.profileId };
    await fc.assert(
      fc.asyncProperty(fc.oneof(badObject(valid).map((o) => JSON.stringify(o)), rawBody), async (body) => {
        // A body that happens to be a valid start is not malformed: skip it.
        let parsed: unknown;
        try { parsed = JSON.parse(body); } catch { parsed = undefined; }
        fc.pre(!(parsed && typeof parsed === "object" && (parsed as { titleId?: unknown }).titleId === "first-light" && Object.keys(parsed).every((k) => ["titleId", "profileId"].includes(k)) && [undefined, m.profileId].includes((parsed as { profileId?: string }).profileId)));
        await expectRefused(await raw("POST", "/v1/playback/sessions", body), `start ${body.slice(0, 80)}`);
      }),
      { numRuns: RUNS },
    );
    expect(await writes()).toEqual(before);
  }, 120_000);

  it("heartbeats and stops of streams that do not exist, with bad ids or bodies", async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(fc.oneof(badSegment, fc.constant("pbs_00000000000000000000")), fc.oneof(badObject({ positionSec: 1 }).map((o) => JSON.stringify(o)), rawBody), fc.boolean(), async (id, body, stop) => {
        const res = stop ? await call(`/v1/playback/sessions/${encodeURIComponent(id)}`, { method: "DELETE", headers: m.headers }) : await raw("POST", `/v1/playback/sessions/${encodeURIComponent(id)}/heartbeat`, body);
        await expectRefused(res, `${stop ? "stop" : "beat"} ${id.slice(0, 40)}`);
      }),
      { numRuns: RUNS },
    );
    expect(await writes()).toEqual(before);
  }, 120_000);

  it("POST /v1/events", async () => {
    const before = await writes();
    // A real stream's id, so that a batch broken anywhere else still reaches every check the route makes.
    const event = { id: "evt-fuzz-00000001", type: "heartbeat", playbackSessionId: await streamIdFor(m.accountId, m.profileId), profileId: m.profileId, titleId: "first-light", positionSec: 1, durationSec: 10, clientTime: Date.now() };
    const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          badObject(event).map((e) => JSON.stringify({ events: [e] })),
          badObject({ events: [event] }).map((o) => JSON.stringify(o)),
          fc.array(junk, { maxLength: 3 }).map((events) => JSON.stringify({ events })),
          rawBody,
        ),
        async (body) => {
          let parsed: unknown;
          try { parsed = JSON.parse(body); } catch { parsed = undefined; }
          // A mutation can land on another valid batch (positionSec 0 is as good as 1): those
          // are not malformed. Valid = the schema passes, every profile is the caller's, every
          // clock is inside the accepted window, and every event's stream verifies.
          const valid = eventBatchSchema.safeParse(parsed);
          const streamsVerify = async (events: WatchEvent[]) =>
            (await Promise.all(events.map((e) => verifyStreamId(keys, e.playbackSessionId, { accountId: m.accountId, profileId: e.profileId, titleId: e.titleId, episodeId: e.episodeId ?? null })))).every(Boolean);
          fc.pre(!(valid.success && valid.data.events.every((e) => e.profileId === m.profileId && Math.abs(e.clientTime - Date.now()) < 3600_000) && (await streamsVerify(valid.data.events))));
          await expectRefused(await raw("POST", "/v1/events", body), `events ${body.slice(0, 80)}`);
        },
      ),
      { numRuns: RUNS },
    );
    // Nothing was queued: give the real consumer a moment, then count.
    await new Promise((r) => setTimeout(r, 6000));
    expect(await writes()).toEqual(before);
  }, 180_000);

  it("home, viewing, My List and ratings with bad profiles, titles, cursors and bodies", async () => {
    const before = await writes();
    const other = await memberOn("standard");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("home", "cw", "history", "history-delete", "list-put", "list-delete", "rating-put", "rating-get"),
        fc.oneof(badSegment, fc.constant(other.profileId), fc.constant("prf_nobody")),
        fc.oneof(badSegment, fc.constant("no-such-title"), fc.constant("late-night")),
        fc.oneof(fc.string({ maxLength: 40 }), junk.map((j) => JSON.stringify(j))),
        async (route, profile, title, extra) => {
          const p = encodeURIComponent(profile);
          const t = encodeURIComponent(title);
          const q = encodeURIComponent(extra);
          const res = await (async () => {
            switch (route) {
              case "home":
                return call(`/v1/home?profile=${p}`, { headers: m.headers });
              case "cw":
                return call(`/v1/profiles/${m.profileId}/continue-watching?cursor=${q || "x"}&limit=${q}`, { headers: m.headers });
              case "history":
                return call(`/v1/profiles/${p}/history`, { headers: m.headers });
              case "history-delete":
                return call(`/v1/profiles/${p}/history/${t}`, { method: "DELETE", headers: m.headers });
              case "list-put":
                return call(`/v1/profiles/${p}/list/${t}`, { method: "PUT", headers: m.headers });
              case "list-delete":
                return call(`/v1/profiles/${m.profileId}/list/${t}`, { method: "DELETE", headers: m.headers });
              case "rating-put": {
                let rating: unknown;
                try { rating = JSON.parse(extra); } catch { rating = undefined; }
                fc.pre(!(title === "late-night" && JSON.stringify(rating) in { '{"rating":"up"}': 1, '{"rating":"down"}': 1, '{"rating":"none"}': 1 }));
                return raw("PUT", `/v1/profiles/${m.profileId}/ratings/${t}`, extra);
              }
              case "rating-get":
                return call(`/v1/profiles/${p}/ratings/${t}`, { headers: m.headers });
            }
          })();
          await expectRefused(res!, `${route} ${profile.slice(0, 30)} ${title.slice(0, 30)} ${extra.slice(0, 30)}`);
        },
      ),
      { numRuns: RUNS },
    );
    expect(await writes()).toEqual(before);
  }, 180_000);
});
