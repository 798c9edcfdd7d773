// Watch events end to end in workerd: POST /v1/events → the real Queue → the real consumer
// → D1. Exact counts for 10,000 events, nothing lost or doubled by a client's retry
// after a 503, bad batches refused whole, and the viewing reads.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import type { WatchEvent } from "../../../lib/watch-events.ts";
import { shardOf } from "../../../lib/watch-shard-of.ts";
import { shardsOf } from "../../../lib/watch-shards/shards.ts";
import { createApp } from "../app.ts";
import { call } from "./auth-client.ts";
import { eventually, fromStreams, scalar, shardDbOf, watchEvent } from "./events-client.ts";
import { anotherDevice, memberOn, seedPlayableCatalog } from "./playback-client.ts";

await seedPlayableCatalog();

const post = (headers: Record<string, string>, events: unknown[]) => call("/v1/events", { headers, json: { events } });

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  return body;
}

/** How many of these event ids are in D1 (asked 90 at a time: D1 binds at most 100 parameters). */
async function landed(ids: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += 90) {
    const chunk = ids.slice(i, i + 90);
    n += await scalar(`SELECT COUNT(*) AS n FROM watch_events WHERE event_id IN (${chunk.map(() => "?").join(",")})`, ...chunk);
  }
  return n;
}

/** Waits until these events are in D1 (and, once they are, any still in flight would be too). */
const waitForLanding = (ids: string[]) =>
  eventually(async () => {
    const n = await landed(ids);
    if (n !== ids.length) throw new Error(`${n} of ${ids.length} events landed`);
  }, 60_000);

describe("POST /v1/events", () => {
  it("queues a batch and answers 202; the consumer lands it", async () => {
    const m = await memberOn("standard");
    const events = await fromStreams(m.accountId, [watchEvent(m.profileId, { type: "start", positionSec: 0 }), watchEvent(m.profileId, { positionSec: 30 })]);
    const res = await post(m.headers, events);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    await waitForLanding(events.map((e) => e.id));
    expect(await scalar("SELECT position_sec AS n FROM watch_progress WHERE profile_id = ?", m.profileId)).toBe(30);
  }, 30_000);

  it("refuses a bad batch whole, with a clear 4xx, and queues none of it", async () => {
    const m = await memberOn("standard");
    const other = await memberOn("standard");
    const refused: WatchEvent[] = [];
    const bad = async (events: unknown[], status: number, code: string) => {
      for (const e of events) if (e && typeof e === "object" && "id" in e) refused.push(e as WatchEvent);
      await expectError(await post(m.headers, events), status, code);
    };
    await bad([], 400, "VALIDATION_FAILED");
    await bad(Array.from({ length: 101 }, () => watchEvent(m.profileId)), 400, "VALIDATION_FAILED");
    await bad([watchEvent(m.profileId), { ...watchEvent(m.profileId), type: "rewind" }], 400, "VALIDATION_FAILED");
    await bad([watchEvent(m.profileId), { ...watchEvent(m.profileId), positionSec: -1 }], 400, "VALIDATION_FAILED");
    await bad([{ ...watchEvent(m.profileId), extra: 1 }], 400, "VALIDATION_FAILED");
    await bad([watchEvent(m.profileId, { clientTime: Date.now() + 2 * 3600_000 })], 400, "VALIDATION_FAILED");
    await bad([watchEvent(m.profileId, { clientTime: Date.now() - 40 * 86_400_000 })], 400, "VALIDATION_FAILED");
    await bad([watchEvent(m.profileId), watchEvent(other.profileId)], 403, "FORBIDDEN");
    const huge = await call("/v1/events", { headers: m.headers, json: { events: [{ ...watchEvent(m.profileId), rendition: "x".repeat(300_000) }] } });
    expect(huge.status).toBe(413);
    await expectError(await call("/v1/events", { method: "POST", headers: { ...m.headers, "content-type": "application/json" } }), 400, "BAD_REQUEST");
    await expectError(await call("/v1/events", { json: { events: [watchEvent(m.profileId)] } }), 401, "UNAUTHORIZED");

    // A batch sent after them lands; none of the refused ones ever do.
    const [marker] = await fromStreams(m.accountId, [watchEvent(m.profileId, { positionSec: 1 })]);
    expect((await post(m.headers, [marker!])).status).toBe(202);
    await waitForLanding([marker!.id]);
    expect(await landed(refused.map((e) => e.id))).toBe(0);
  }, 30_000);

  it("a device in a kids profile reports for that profile only", async () => {
    const m = await memberOn("standard");
    const kid = ((await (await call("/v1/profiles", { headers: m.headers, json: { name: "Kid", isKids: true } })).json()) as { id: string }).id;
    const tablet = await anotherDevice(m.accountId, "Tablet");
    expect((await call(`/v1/profiles/${kid}/enter`, { headers: tablet, json: {} })).status).toBe(200);
    await expectError(await post(tablet, [watchEvent(m.profileId)]), 403, "FORBIDDEN");
    expect((await post(tablet, await fromStreams(m.accountId, [watchEvent(kid)]))).status).toBe(202);
  });

  it("a failed send is a retryable 503; the client's retries with the same ids lose and double nothing", async () => {
    const m = await memberOn("standard");
    // Around the real Queue: the first send fails outright; the api's own retry reaches
    // the Queue but its answer is lost, so the client sees a 503 for a batch that was queued.
    let sends = 0;
    // The profile's shard queue, the one its events go to.
    const shardQueue = `WATCH_EVENTS_${shardOf(m.profileId, shardsOf(env))}`;
    const real = (env as unknown as Record<string, Queue>)[shardQueue]!;
    const flaky: Queue = {
      send: (body, options) => real.send(body, options),
      sendBatch: async (messages, options) => {
        sends++;
        if (sends === 1) throw new Error("Queue send failed: network connection lost");
        const sent = await real.sendBatch(messages, options);
        if (sends === 2) throw new Error("Queue send failed: timed out");
        return sent;
      },
      metrics: () => real.metrics(),
    };
    const app = createApp();
    const send = async (events: WatchEvent[]) => {
      const ctx = createExecutionContext();
      const res = await app.request("https://marquee.test/v1/events", { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body: JSON.stringify({ events }) }, { ...env, [shardQueue]: flaky }, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const events = await fromStreams(m.accountId, Array.from({ length: 50 }, (_, i) => watchEvent(m.profileId, { type: i % 5 === 0 ? "start" : "seek", titleId: "first-light", positionSec: i, clientTime: Date.now() - 1000 + i })));
    const plays = () => scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE country = '*' AND title_id = 'first-light'");
    const playsBefore = await plays();
    const first = await send(events);
    const body = await expectError(first, 503, "UNAVAILABLE");
    expect(first.headers.get("retry-after")).toBe("1");
    expect(body.error.details).toMatchObject({ retryable: true });
    expect(sends).toBe(2);
    expect((await send(events)).status).toBe(202);
    expect(sends).toBe(3);
    await waitForLanding(events.map((e) => e.id));
    expect(await scalar("SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ?", m.profileId)).toBe(50);
    // Ten starts of one title by one profile on one day: one play, although two of the three sends reached the Queue.
    expect((await plays()) - playsBefore).toBe(1);
    expect(await scalar("SELECT position_sec AS n FROM watch_progress WHERE profile_id = ? AND title_id = 'first-light'", m.profileId)).toBe(49);
  }, 60_000);

  it("10,000 events through HTTP, the Queue and the consumer give exact counts, resends included", async () => {
    const members = await Promise.all(Array.from({ length: 10 }, () => memberOn("premium")));
    const titlesPlayed = ["first-light", "late-night", "second-wind"] as const;
    // Every member starts every title (many times): one play each per title and day.
    const expectedPlays = new Map<string, number>(titlesPlayed.map((t) => [t, members.length]));
    const lastPosition = new Map<string, number>();
    const batches: { headers: Record<string, string>; events: WatchEvent[] }[] = [];
    const t0 = Date.now() - 600_000;
    let n = 0;
    for (const m of members) {
      for (let b = 0; b < 10; b++) {
        const events = Array.from({ length: 100 }, () => {
          const i = n++;
          const titleId = titlesPlayed[i % 3]!;
          const type = i % 7 === 0 ? "start" : "seek";
          lastPosition.set(`${m.profileId}/${titleId}`, i % 1000);
          return watchEvent(m.profileId, { type, titleId, episodeId: titleId === "second-wind" ? "second-wind-s1e1" : null, positionSec: i % 1000, durationSec: 5000, clientTime: t0 + i });
        });
        batches.push({ headers: m.headers, events: await fromStreams(m.accountId, events) });
      }
    }
    const before = new Map(await Promise.all(titlesPlayed.map(async (t) => [t, await scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE country = '*' AND title_id = ?", t)] as const)));
    // Ten at a time, and every tenth batch sent twice, as a client that lost the answer would.
    for (let i = 0; i < batches.length; i += 10) {
      const group = batches.slice(i, i + 10);
      const answers = await Promise.all([...group, group[0]!].map((b) => post(b.headers, b.events)));
      expect(answers.map((r) => r.status)).toEqual(Array(11).fill(202));
    }
    const allIds = batches.flatMap((b) => b.events.map((e) => e.id));
    expect(allIds).toHaveLength(10_000);
    await eventually(async () => {
      const total = await scalar(`SELECT COUNT(*) AS n FROM watch_events WHERE profile_id IN (${members.map(() => "?").join(",")})`, ...members.map((m) => m.profileId));
      if (total !== 10_000) throw new Error(`${total} of 10000 landed`);
    }, 120_000);
    for (const t of titlesPlayed) {
      const plays = await scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE country = '*' AND title_id = ?", t);
      expect(plays - before.get(t)!, t).toBe(expectedPlays.get(t));
    }
    for (const m of members) {
      for (const t of titlesPlayed) {
        expect(await scalar("SELECT position_sec AS n FROM watch_progress WHERE profile_id = ? AND title_id = ?", m.profileId, t)).toBe(lastPosition.get(`${m.profileId}/${t}`));
      }
    }
  }, 180_000);
});

describe("viewing reads", () => {
  const seed = async (profileId: string) => {
    const now = Date.now();
    const db = shardDbOf(profileId);
    await db.batch([
      db.prepare("INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at) VALUES (?, 'first-light', NULL, 60, 600, 0, ?, ?)").bind(profileId, now - 3000, now),
      db.prepare("INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at) VALUES (?, 'second-wind', 'second-wind-s1e2', 300, 1200, 0, ?, ?)").bind(profileId, now - 1000, now),
      db.prepare("INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at) VALUES (?, 'late-night', NULL, 590, 600, 1, ?, ?)").bind(profileId, now - 2000, now),
      db.prepare("INSERT INTO watch_history (profile_id, title_id, episode_key, episode_id, finished_at) VALUES (?, 'late-night', '', NULL, ?), (?, 'second-wind', 'second-wind-s1e1', 'second-wind-s1e1', ?), (?, 'first-light', '', NULL, ?)")
        .bind(profileId, now - 2000, profileId, now - 5000, profileId, now - 9000),
    ]);
  };

  it("Continue Watching: unfinished titles, newest first, paginated, with the episode and progress", async () => {
    const m = await memberOn("standard");
    await seed(m.profileId);
    const page1 = (await (await call(`/v1/profiles/${m.profileId}/continue-watching?limit=1`, { headers: m.headers })).json()) as { items: { titleId: string; episode: unknown; progress: number }[]; nextCursor: string };
    expect(page1.items).toEqual([expect.objectContaining({ titleId: "second-wind", episode: { id: "second-wind-s1e2", name: "Relapse", seasonNumber: 1, number: 2 }, progress: 0.25 })]);
    const page2 = (await (await call(`/v1/profiles/${m.profileId}/continue-watching?limit=1&cursor=${page1.nextCursor}`, { headers: m.headers })).json()) as { items: { titleId: string }[]; nextCursor: string | null };
    expect(page2.items.map((i) => i.titleId)).toEqual(["first-light"]);
    expect(page2.nextCursor).toBeNull();
  });

  it("history: finished titles and episodes, newest first, paginated; a title can be removed from it", async () => {
    const m = await memberOn("standard");
    await seed(m.profileId);
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`/v1/profiles/${m.profileId}/history?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { headers: m.headers });
      const page = (await res.json()) as { items: { titleId: string }[]; nextCursor: string | null };
      all.push(...page.items.map((i) => i.titleId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(all).toEqual(["late-night", "second-wind", "first-light"]);
    expect((await call(`/v1/profiles/${m.profileId}/history/first-light`, { method: "DELETE", headers: m.headers })).status).toBe(204);
    expect((await call(`/v1/profiles/${m.profileId}/history/first-light`, { method: "DELETE", headers: m.headers })).status).toBe(404);
    const after = (await (await call(`/v1/profiles/${m.profileId}/history`, { headers: m.headers })).json()) as { items: { titleId: string }[] };
    expect(after.items.map((i) => i.titleId)).toEqual(["late-night", "second-wind"]);
    const cw = (await (await call(`/v1/profiles/${m.profileId}/continue-watching`, { headers: m.headers })).json()) as { items: { titleId: string }[] };
    expect(cw.items.map((i) => i.titleId)).toEqual(["second-wind"]);
  });

  it("show a kids profile only what it may watch, and nobody another account's viewing", async () => {
    const m = await memberOn("standard");
    const kid = ((await (await call("/v1/profiles", { headers: m.headers, json: { name: "Kid", isKids: true } })).json()) as { id: string }).id;
    await seed(kid);
    const cw = (await (await call(`/v1/profiles/${kid}/continue-watching`, { headers: m.headers })).json()) as { items: { titleId: string }[] };
    expect(cw.items.map((i) => i.titleId)).toEqual(["first-light"]);
    const other = await memberOn("standard");
    await expectError(await call(`/v1/profiles/${kid}/history`, { headers: other.headers }), 404, "NOT_FOUND");
    await expectError(await call(`/v1/profiles/${kid}/history/first-light`, { method: "DELETE", headers: other.headers }), 404, "NOT_FOUND");
    await expectError(await call(`/v1/profiles/${kid}/history?cursor=garbage`, { headers: m.headers }), 400, "VALIDATION_FAILED");
    const tablet = await anotherDevice(m.accountId, "Tablet");
    expect((await call(`/v1/profiles/${kid}/enter`, { headers: tablet, json: {} })).status).toBe(200);
    await expectError(await call(`/v1/profiles/${m.profileId}/continue-watching`, { headers: tablet }), 403, "FORBIDDEN");
  });
});
