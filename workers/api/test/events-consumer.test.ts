// The watch-events consumer on batches made like the Queue's: counts once under
// redelivery, latest client time wins, finished titles move to history (and series on to
// the next episode), co-watch pairs with recent titles, poison goes to the DLQ without
// holding back its batch.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RECENT_TITLES } from "../events/apply-events.ts";
import { retryDelaySeconds } from "../queue/consume-watch-events.ts";
import { call } from "./auth-client.ts";
import { deliver, eventually, message, scalar, shardDbOf, watchEvent } from "./events-client.ts";
import { memberOn, seedPlayableCatalog } from "./playback-client.ts";

await seedPlayableCatalog();

const progress = (profileId: string, titleId: string) =>
  shardDbOf(profileId).prepare("SELECT episode_id, position_sec, duration_sec, completed, event_at FROM watch_progress WHERE profile_id = ? AND title_id = ?")
    .bind(profileId, titleId)
    .first<{ episode_id: string | null; position_sec: number; duration_sec: number; completed: number; event_at: number }>();

const plays = (titleId: string, country: string) => scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE title_id = ? AND country = ?", titleId, country);

describe("at-least-once delivery", () => {
  it("a redelivered batch counts nothing twice, and every message is acked on its own", async () => {
    const m = await memberOn("standard");
    const n = await memberOn("standard");
    const bodies = [
      message(m.accountId, watchEvent(m.profileId, { type: "start", positionSec: 0, titleId: "first-light" })),
      message(n.accountId, watchEvent(n.profileId, { type: "start", positionSec: 0, titleId: "first-light" })),
      message(m.accountId, watchEvent(m.profileId, { type: "start", positionSec: 0, titleId: "late-night" })),
    ];
    const before = await plays("first-light", "*");
    const first = await deliver(bodies);
    expect(first.explicitAcks.sort()).toEqual([...first.ids].sort());
    expect(first.retryMessages).toEqual([]);
    await deliver(bodies);
    await deliver([bodies[1]]);
    expect((await plays("first-light", "*")) - before).toBe(2);
    expect(await plays("late-night", "FR")).toBe(1);
  });

  it("the same event twice in one batch counts once", async () => {
    const m = await memberOn("standard");
    const body = message(m.accountId, watchEvent(m.profileId, { type: "start", titleId: "second-wind", episodeId: "second-wind-s1e1", positionSec: 0 }));
    const before = await plays("second-wind", "FR");
    await deliver([body, body]);
    expect((await plays("second-wind", "FR")) - before).toBe(1);
  });
});

describe("progress", () => {
  it("the latest event by client time wins, across batches and within one, whatever the delivery order", async () => {
    const m = await memberOn("standard");
    const t = Date.now() - 60_000;
    await deliver([message(m.accountId, watchEvent(m.profileId, { positionSec: 50, clientTime: t + 5000 }))]);
    await deliver([message(m.accountId, watchEvent(m.profileId, { positionSec: 10, clientTime: t + 1000 }))]);
    expect(await progress(m.profileId, "first-light")).toMatchObject({ position_sec: 50, event_at: t + 5000, completed: 0 });
    await deliver([
      message(m.accountId, watchEvent(m.profileId, { positionSec: 90, clientTime: t + 9000 })),
      message(m.accountId, watchEvent(m.profileId, { positionSec: 70, clientTime: t + 7000, type: "pause" })),
    ]);
    expect(await progress(m.profileId, "first-light")).toMatchObject({ position_sec: 90, event_at: t + 9000 });
    // Errors and quality changes carry no resume point.
    await deliver([message(m.accountId, watchEvent(m.profileId, { positionSec: 5, clientTime: t + 20_000, type: "quality_change", rendition: "240p" }))]);
    expect((await progress(m.profileId, "first-light"))!.position_sec).toBe(90);
  });

  it("a finished movie leaves Continue Watching for the history", async () => {
    const m = await memberOn("standard");
    await deliver([message(m.accountId, watchEvent(m.profileId, { positionSec: 5800, durationSec: 6000 }))]);
    expect(await progress(m.profileId, "first-light")).toMatchObject({ completed: 1 });
    expect(await scalar("SELECT COUNT(*) AS n FROM watch_history WHERE profile_id = ? AND title_id = 'first-light' AND episode_key = ''", m.profileId)).toBe(1);
  });

  it("a finished episode puts the next one into Continue Watching at its start, and history gets the episode", async () => {
    const m = await memberOn("standard");
    const ep = (episodeId: string, o: Parameters<typeof watchEvent>[1] = {}) =>
      message(m.accountId, watchEvent(m.profileId, { titleId: "second-wind", episodeId, durationSec: 1000, ...o }));
    await deliver([ep("second-wind-s1e2", { positionSec: 400 })]);
    expect(await progress(m.profileId, "second-wind")).toMatchObject({ episode_id: "second-wind-s1e2", position_sec: 400, completed: 0 });
    await deliver([ep("second-wind-s1e2", { type: "complete", positionSec: 990 })]);
    expect(await progress(m.profileId, "second-wind")).toMatchObject({ episode_id: "second-wind-s2e1", position_sec: 0, completed: 0 });
    expect(await scalar("SELECT COUNT(*) AS n FROM watch_history WHERE profile_id = ? AND episode_id = 'second-wind-s1e2'", m.profileId)).toBe(1);
    // The last episode has no next one: the series is finished.
    await deliver([ep("second-wind-s2e1", { type: "complete", positionSec: 1000 })]);
    expect(await progress(m.profileId, "second-wind")).toMatchObject({ episode_id: "second-wind-s2e1", completed: 1 });
  });

  it("applies what the api stamped: a title that is gone since lands, and shows nowhere", async () => {
    // Whose profile, which title and episode were checked at intake (a signed stream id
    // for each event: events.security.test.ts); the shard has no catalog to check again.
    const a = await memberOn("standard");
    await deliver([message(a.accountId, watchEvent(a.profileId, { titleId: "no-such-title" }))]);
    expect(await progress(a.profileId, "no-such-title")).toMatchObject({ position_sec: 10 });
    const cw = (await (await call(`/v1/profiles/${a.profileId}/continue-watching`, { headers: a.headers })).json()) as { items: unknown[] };
    expect(cw.items).toEqual([]);
  });
});

describe("co-watch", () => {
  it("pairs a newly started title with the profile's few most recent ones, both ways, once", async () => {
    const m = await memberOn("premium");
    const t = Date.now() - 100_000;
    const start = (titleId: string, at: number) => message(m.accountId, watchEvent(m.profileId, { type: "start", titleId, positionSec: 0, clientTime: at }));
    const pair = (a: string, b: string) => scalar("SELECT COALESCE(SUM(count), 0) AS n FROM co_watch WHERE title_id = ? AND other_title_id = ?", a, b);
    const before = await pair("first-light", "late-night");
    await deliver([start("first-light", t)]);
    await deliver([start("late-night", t + 1000)]);
    expect((await pair("first-light", "late-night")) - before).toBe(1);
    expect((await pair("late-night", "first-light")) - before).toBe(1);
    // Starting a recent title again adds no pair.
    await deliver([start("first-light", t + 2000)]);
    expect((await pair("first-light", "late-night")) - before).toBe(1);
    const recent = await scalar("SELECT COUNT(*) AS n FROM profile_recent_titles WHERE profile_id = ?", m.profileId);
    expect(recent).toBe(2);
  });

  it("keeps at most RECENT_TITLES titles per profile, so each start costs the same", async () => {
    const m = await memberOn("premium");
    const { drizzle } = await import("drizzle-orm/d1");
    const { titles } = await import("../../../d1/schema.ts");
    const now = new Date();
    const ids = Array.from({ length: RECENT_TITLES + 3 }, (_, i) => `cw-title-${i}`);
    await drizzle(env.DB).insert(titles).values(ids.map((id) => ({ id, kind: "movie" as const, name: id, synopsis: id, releaseYear: 2020, maturityRating: "PG", maturityLevel: 1, createdAt: now, updatedAt: now })));
    for (const [i, id] of ids.entries()) await deliver([message(m.accountId, watchEvent(m.profileId, { type: "start", titleId: id, positionSec: 0, clientTime: Date.now() - 10_000 + i }))]);
    expect(await scalar("SELECT COUNT(*) AS n FROM profile_recent_titles WHERE profile_id = ?", m.profileId)).toBe(RECENT_TITLES);
    // The last title was paired with exactly the RECENT_TITLES before it.
    expect(await scalar("SELECT COUNT(*) AS n FROM co_watch WHERE title_id = ?", ids.at(-1)!)).toBe(RECENT_TITLES);
  });
});

describe("poison messages", () => {
  it("go to the dead-letter queue at once, are kept in dead_letters, and do not hold back the good ones", async () => {
    const m = await memberOn("standard");
    const good = message(m.accountId, watchEvent(m.profileId, { positionSec: 33 }));
    const result = await deliver([{ hello: "world" }, good, { v: 1, accountId: m.accountId, country: "FR", receivedAt: 1, event: { id: "x" } }]);
    expect(result.explicitAcks.sort()).toEqual([...result.ids].sort());
    expect(result.retryMessages).toEqual([]);
    expect((await progress(m.profileId, "first-light"))!.position_sec).toBe(33);
    // The real Queue delivers the dead letters to their consumer, which keeps them.
    const [poisonId, , otherPoisonId] = result.ids;
    await eventually(async () => {
      const rows = await env.DB.prepare("SELECT id, reason, body FROM dead_letters WHERE id IN (?, ?)").bind(poisonId, otherPoisonId).all<{ id: string; reason: string; body: string }>();
      if (rows.results.length !== 2) throw new Error(`dead letters so far: ${rows.results.length}`);
      const first = rows.results.find((r) => r.id === poisonId)!;
      expect(JSON.parse(first.body)).toEqual({ hello: "world" });
      expect(first.reason).toMatch(/v:|accountId|event/);
    });
  }, 30_000); // the dead-letter queue's consumer waits up to max_batch_timeout (5 s) for a batch

  it("messages the Queue gave up on are kept too, as retries exhausted", async () => {
    const body = { v: 1, whatever: true };
    const result = await deliver([body], "watch-events-dlq", 6);
    expect(result.ackAll).toBe(true);
    const row = await env.DB.prepare("SELECT reason, attempts FROM dead_letters WHERE id = ?").bind(result.ids[0]).first();
    expect(row).toEqual({ reason: "retries exhausted", attempts: 6 });
  });
});

describe("retries", () => {
  it("back off exponentially from the delivery count, with jitter, capped", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((a) => retryDelaySeconds(a, mid))).toEqual([5, 10, 20, 40, 80]);
    expect(retryDelaySeconds(30, mid)).toBe(600);
    expect(retryDelaySeconds(1, () => 0)).toBe(4);
    expect(retryDelaySeconds(1, () => 1)).toBe(6);
  });
});
