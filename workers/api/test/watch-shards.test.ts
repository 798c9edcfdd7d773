// The watch shards in workerd (EVENT_SHARDS = 2 here, as in `npm run dev`): a profile's
// events land in its own shard whatever queue they reach; the shared counters sum every
// shard's plays exactly once; heartbeats stop at the account's Durable Object (no D1
// statement), which writes positions when due; and what one hour of viewing costs in D1
// statements, heartbeats through the Queue (as before) against heartbeats kept by the object.
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PlaybackPositions } from "../../../durable-objects/playback-positions.ts";
import { d1StatementCounts, resetBreakers } from "../../../lib/bindings/guard.ts";
import type { WatchEvent } from "../../../lib/watch-events.ts";
import { shardOf } from "../../../lib/watch-shard-of.ts";
import { allShards, shardsOf } from "../../../lib/watch-shards/shards.ts";
import { housekeeping } from "../cron/housekeeping.ts";
import { foldCounters } from "../events/fold-counters.ts";
import { runHomeQueries } from "../home/home-queries.ts";
import type { OutboxRow } from "../events/apply-events.ts";
import worker from "../index.ts";
import { call } from "./auth-client.ts";
import { deliver, eventually, fromStreams, message, scalar, shardDbOf, watchEvent } from "./events-client.ts";
import { memberOn, seedPlayableCatalog, startPlayback, started, streamsObject, type Member } from "./playback-client.ts";

await seedPlayableCatalog();

const SHARDS = shardsOf(env);
const post = (headers: Record<string, string>, events: unknown[]) => call("/v1/events", { headers, json: { events } });

/** Members until every shard has `perShard` of them (profiles hash to shards: about half each here). */
async function membersInEveryShard(perShard: number): Promise<Member[][]> {
  const byShard: Member[][] = Array.from({ length: SHARDS }, () => []);
  for (let tries = 0; byShard.some((s) => s.length < perShard); tries++) {
    if (tries > 60) throw new Error("profiles did not spread over the shards");
    const m = await memberOn("premium");
    const k = shardOf(m.profileId, SHARDS);
    if (byShard[k]!.length < perShard) byShard[k]!.push(m);
  }
  return byShard;
}

/** Rows per shard for a query of one profile's watch data. */
async function perShard(sql: string, ...params: unknown[]): Promise<number[]> {
  return Promise.all(allShards(env).map(async (s) => (await s.db.prepare(sql).bind(...params).first<{ n: number }>())?.n ?? 0));
}

const statements = () => d1StatementCounts();
/** Statements sent since `before`, per database binding, and in all. */
function since(before: Record<string, number>) {
  const now = statements();
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v - (before[k] ?? 0) > 0) delta[k] = v - (before[k] ?? 0);
  const total = Object.values(delta).reduce((a, b) => a + b, 0);
  const shards = Object.entries(delta).filter(([k]) => k.startsWith("d1:WATCH_")).reduce((a, [, v]) => a + v, 0);
  return { delta, total, shards, db: delta["d1:DB"] ?? 0 };
}

describe("a profile's watch data is in one shard", () => {
  it("its events land in its own shard whichever shard's queue carries them, each once", async () => {
    const groups = await membersInEveryShard(1);
    for (const m of groups.map((g) => g[0]!)) {
      const own = shardOf(m.profileId, SHARDS);
      const events = await fromStreams(m.accountId, [watchEvent(m.profileId, { type: "start", positionSec: 0 }), ...Array.from({ length: 9 }, (_, i) => watchEvent(m.profileId, { positionSec: 10 * (i + 1), clientTime: Date.now() + i }))]);
      // Through HTTP (the api picks the queue), and straight onto every shard's queue: the
      // consumer of a wrong shard passes them on to the right one.
      expect((await post(m.headers, events.slice(0, 4))).status).toBe(202);
      for (let k = 0; k < SHARDS; k++) await deliver(events.slice(4).map((e) => message(m.accountId, e)), `watch-events-${k}`);
      await eventually(async () => {
        const counts = await perShard("SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ?", m.profileId);
        if (counts[own] !== 10) throw new Error(`shard ${own} has ${counts[own]} of 10`);
        return counts;
      }, 30_000);
      const counts = await perShard("SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ?", m.profileId);
      expect(counts.filter((_, k) => k !== own)).toEqual(Array(SHARDS - 1).fill(0));
      const progress = await perShard("SELECT COUNT(*) AS n FROM watch_progress WHERE profile_id = ?", m.profileId);
      expect(progress[own]).toBe(1);
      expect(progress.reduce((x, y) => x + y, 0)).toBe(1);
      expect(await scalar("SELECT position_sec AS n FROM watch_progress WHERE profile_id = ?", m.profileId)).toBe(90);
    }
  }, 60_000);
});

describe("the shared counters", () => {
  it("Top 10 sums the plays of every shard, each profile once", async () => {
    const groups = await membersInEveryShard(2);
    const everyone = groups.flat();
    const playsOf = (country: string) => scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE country = ? AND title_id = 'first-light'", country);
    const before = await playsOf("*");
    for (const m of everyone) {
      // Three starts each, one of them sent twice: one play per profile.
      const events = await fromStreams(m.accountId, Array.from({ length: 3 }, (_, i) => watchEvent(m.profileId, { type: "start", positionSec: 0, clientTime: Date.now() + i })));
      expect((await post(m.headers, events)).status).toBe(202);
      expect((await post(m.headers, events.slice(0, 1))).status).toBe(202);
    }
    await eventually(async () => {
      const plays = await playsOf("*");
      if (plays - before !== everyone.length) throw new Error(`${plays - before} of ${everyone.length} plays counted`);
    }, 30_000);
    // Every shard counted its own profiles' plays…
    const counted = await perShard("SELECT COUNT(*) AS n FROM counted_plays WHERE title_id = 'first-light'");
    expect(counted.every((n) => n >= 2)).toBe(true);
    // …and the cron's sweep, which folds whatever the outboxes still hold (here: batches
    // folded already, whose rows the next batch would have deleted), adds nothing again.
    await housekeeping(env, new Date());
    expect(await perShard("SELECT COUNT(*) AS n FROM counter_outbox")).toEqual(Array(SHARDS).fill(0));
    expect((await playsOf("*")) - before).toBe(everyone.length);
    // The Top 10 read of the home page (the row shows it once four titles have plays) sums them all.
    const { results: countries } = await env.DB.prepare("SELECT DISTINCT country FROM title_plays_daily WHERE title_id = 'first-light' AND country != '*'").all<{ country: string }>();
    expect(countries).toHaveLength(1); // the test's requests all come from one place
    const country = countries[0]!.country;
    const q = await runHomeQueries({ env, db: env.DB, accountId: everyone[0]!.accountId, profileId: everyone[0]!.profileId, nowMs: Date.now(), requestId: "test" }, country);
    expect(q.top10.find((t) => t.id === "first-light")?.plays).toBe(await playsOf(country));
    expect(await playsOf(country)).toBeGreaterThanOrEqual(everyone.length);
  }, 90_000);

  it("a fold run twice, or with a row read twice, adds each batch once", async () => {
    const rows: OutboxRow[] = [
      { batch_tag: "fold-test-1", kind: "plays", a: "2026-12-01", b: "*", c: "second-wind", delta: 3 },
      { batch_tag: "fold-test-1", kind: "viewers", a: "second-wind", b: "", c: "", delta: 2 },
      { batch_tag: "fold-test-2", kind: "co_watch", a: "second-wind", b: "first-light", c: "", delta: 1 },
    ];
    const plays = () => scalar("SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE day = '2026-12-01' AND title_id = 'second-wind'");
    const coWatch = () => scalar("SELECT COALESCE(SUM(count), 0) AS n FROM co_watch WHERE title_id = 'second-wind' AND other_title_id = 'first-light'");
    expect(await foldCounters(env.DB, 0, [...rows, rows[0]!], Date.now())).toEqual(["fold-test-1", "fold-test-2"]);
    await foldCounters(env.DB, 0, rows, Date.now());
    expect(await plays()).toBe(3);
    expect(await coWatch()).toBe(1);
    // The same batch tag from another shard is another batch.
    await foldCounters(env.DB, 1, rows.slice(0, 1), Date.now());
    expect(await plays()).toBe(6);
  });
});

/** A PlaybackPositions over the account object's own storage: runs what its alarm would at `nowMs`. */
function writeDuePositions(accountId: string, nowMs: number): Promise<number> {
  return runInDurableObject(streamsObject(accountId), (_instance, state) => new PlaybackPositions(state.storage.sql, env as never).writeDue(nowMs));
}

describe("heartbeats", () => {
  it("cost no D1 statement: the account's object keeps the position, Continue Watching sees it, its write comes when due", async () => {
    const m = await memberOn("standard");
    const own = shardOf(m.profileId, SHARDS);
    const t0 = Date.now();
    const beats = await fromStreams(m.accountId, Array.from({ length: 5 }, (_, i) => watchEvent(m.profileId, { type: "heartbeat", positionSec: 30 * (i + 1), durationSec: 6000, clientTime: t0 + i * 30_000 })));
    await post(m.headers, beats.slice(0, 1)); // the session's first use may touch it: not counted below
    const before = statements();
    for (const b of beats.slice(1)) expect((await post(m.headers, [b])).status).toBe(202);
    const cost = since(before);
    expect(cost.shards).toBe(0);
    // Each POST checks its session: one DB statement each, nothing else.
    expect(cost.db).toBe(4);
    expect(await scalar("SELECT COUNT(*) AS n FROM watch_events WHERE profile_id = ?", m.profileId)).toBe(0);
    expect(await scalar("SELECT COUNT(*) AS n FROM watch_progress WHERE profile_id = ?", m.profileId)).toBe(0);

    const cw = (await (await call(`/v1/profiles/${m.profileId}/continue-watching`, { headers: m.headers })).json()) as { items: { titleId: string; positionSec: number }[] };
    expect(cw.items).toEqual([expect.objectContaining({ titleId: "first-light", positionSec: 150 })]);

    // Not due yet (reported just now, first report a moment ago): nothing is written.
    expect(await writeDuePositions(m.accountId, Date.now())).toBe(0);
    const beforeWrite = statements();
    expect(await writeDuePositions(m.accountId, Date.now() + 6 * 60_000)).toBe(1);
    expect(since(beforeWrite).delta).toEqual({ [`d1:WATCH_${own}`]: 1 });
    expect(await scalar("SELECT position_sec AS n FROM watch_progress WHERE profile_id = ?", m.profileId)).toBe(150);
    // Written: nothing more until a new report, and never twice within a minute.
    expect(await writeDuePositions(m.accountId, Date.now() + 12 * 60_000)).toBe(0);
  }, 30_000);

  it("a position past the end goes through the Queue, so the history and the next episode follow", async () => {
    const m = await memberOn("standard");
    const [beat] = await fromStreams(m.accountId, [watchEvent(m.profileId, { type: "heartbeat", titleId: "second-wind", episodeId: "second-wind-s1e1", positionSec: 1180, durationSec: 1200 })]);
    expect((await post(m.headers, [beat!])).status).toBe(202);
    expect(await writeDuePositions(m.accountId, Date.now() + 6 * 60_000)).toBe(1);
    await eventually(async () => {
      if ((await scalar("SELECT COUNT(*) AS n FROM watch_history WHERE profile_id = ? AND episode_key = 'second-wind-s1e1'", m.profileId)) !== 1) throw new Error("not in the history yet");
    }, 30_000);
    const progress = await shardDbOf(m.profileId).prepare("SELECT episode_id, position_sec, completed FROM watch_progress WHERE profile_id = ?").bind(m.profileId).first();
    expect(progress).toEqual({ episode_id: "second-wind-s1e2", position_sec: 0, completed: 0 });
  }, 30_000);

  it("a title completed at its credits leaves Continue Watching, though the object holds its last position", async () => {
    const m = await memberOn("standard");
    const t = Date.now();
    const events = await fromStreams(m.accountId, [
      watchEvent(m.profileId, { type: "heartbeat", positionSec: 3000, durationSec: 6000, clientTime: t }),
      watchEvent(m.profileId, { type: "complete", positionSec: 4200, durationSec: 6000, clientTime: t + 1000 }),
    ]);
    expect((await post(m.headers, events)).status).toBe(202);
    await eventually(async () => {
      if ((await scalar("SELECT COUNT(*) AS n FROM watch_history WHERE profile_id = ?", m.profileId)) !== 1) throw new Error("not finished yet");
    }, 30_000);
    const cw = (await (await call(`/v1/profiles/${m.profileId}/continue-watching`, { headers: m.headers })).json()) as { items: unknown[] };
    expect(cw.items).toEqual([]);
  }, 30_000);

  it("removing a title from the viewing forgets its live position too", async () => {
    const m = await memberOn("standard");
    const [beat] = await fromStreams(m.accountId, [watchEvent(m.profileId, { type: "heartbeat", positionSec: 300 })]);
    expect((await post(m.headers, [beat!])).status).toBe(202);
    expect((await call(`/v1/profiles/${m.profileId}/history/first-light`, { method: "DELETE", headers: m.headers })).status).toBe(204);
    const cw = (await (await call(`/v1/profiles/${m.profileId}/continue-watching`, { headers: m.headers })).json()) as { items: unknown[] };
    expect(cw.items).toEqual([]);
    expect(await writeDuePositions(m.accountId, Date.now() + 6 * 60_000)).toBe(0);
  });

  it("when the account's object cannot be reached, heartbeats go through the Queue instead: no position is lost", async () => {
    const m = await memberOn("standard");
    const [beat] = await fromStreams(m.accountId, [watchEvent(m.profileId, { type: "heartbeat", positionSec: 420 })]);
    const res = await fetchWith(unreachablePositions(), "/v1/events", m.headers, { events: [beat] });
    // The object's failures opened its breaker in this isolate: closed again for the tests after this one.
    resetBreakers();
    expect(res.status).toBe(202);
    await eventually(async () => {
      if ((await scalar("SELECT position_sec AS n FROM watch_progress WHERE profile_id = ?", m.profileId)) !== 420) throw new Error("not landed");
    }, 30_000);
  }, 30_000);
});

/** The env with ACCOUNT_STREAMS whose position calls fail (everything else of the object works). */
function unreachablePositions(): Record<string, unknown> {
  const real = env.ACCOUNT_STREAMS;
  const unreachable = () => Promise.reject(new Error("Durable Object is overloaded"));
  const namespace = {
    idFromName: (name: string) => real.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = real.get(id);
      return {
        id,
        acquire: (...a: Parameters<typeof stub.acquire>) => stub.acquire(...a),
        heartbeat: (...a: Parameters<typeof stub.heartbeat>) => stub.heartbeat(...a),
        release: (...a: Parameters<typeof stub.release>) => stub.release(...a),
        setPlan: (...a: Parameters<typeof stub.setPlan>) => stub.setPlan(...a),
        list: (...a: Parameters<typeof stub.list>) => stub.list(...a),
        notePositions: unreachable,
        livePositions: unreachable,
        forgetPositions: unreachable,
      };
    },
  };
  return { ACCOUNT_STREAMS: namespace };
}

/** A request to the Worker's own fetch (its bindings behind the guard, so statements are counted) with some bindings replaced. */
async function fetchWith(overrides: Record<string, unknown>, path: string, headers: Record<string, string>, json?: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  const init: RequestInit = json === undefined ? { headers } : { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(json) };
  const request = new Request(`https://marquee.test${path}`, init) as unknown as Request<unknown, IncomingRequestCfProperties>;
  const res = await worker.fetch(request, { ...env, ...overrides } as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Queues that keep what is sent to them, for the test to deliver to the consumer in batches of its choosing. */
function capturingQueues() {
  const sent: unknown[] = [];
  const queues: Record<string, Queue> = {};
  for (let k = 0; k < SHARDS; k++) {
    queues[`WATCH_EVENTS_${k}`] = {
      send: async (body: unknown) => void sent.push(body),
      sendBatch: async (messages: Iterable<MessageSendRequest>) => void sent.push(...[...messages].map((m) => m.body)),
      metrics: async () => ({ backlogCount: 0, backlogBytes: 0 }),
    } as unknown as Queue;
  }
  return { sent, queues };
}

type HourCost = { requests: number; consumer: number; positions: number; events: number; queued: number };

/**
 * One hour of one viewer as the web player makes it: Play, then every 30 s a lease
 * heartbeat and an events POST (a heartbeat event), a pause and a resume at 20 minutes,
 * a stop at the end. `heartbeatsKept`: the account's object keeps heartbeats and writes
 * them when due (now), or every heartbeat also goes through the Queue to the consumer (as
 * the api sent them before; the requests themselves are the same in both). `batchOf`: the
 * consumer takes the queued messages one POST at a time (a quiet deployment) or 100 at a
 * time (a busy one). D1 statements counted through the binding guard, by who sent them.
 */
async function viewingHour(heartbeatsKept: boolean, batchOf: "post" | 100): Promise<HourCost> {
  const m = await memberOn("standard");
  const { sent, queues } = capturingQueues();
  // Any number of event POSTs a second (the hour is played in seconds): the rate limit is not what is measured.
  const unlimited = { limit: async () => ({ success: true }) };
  const overrides = { ...queues, EVENTS_RATE_LIMIT: unlimited };
  const cost: HourCost = { requests: 0, consumer: 0, positions: 0, events: 0, queued: 0 };
  const counted = async <T>(key: "requests" | "consumer" | "positions", f: () => Promise<T>) => {
    const before = statements();
    const out = await f();
    cost[key] += since(before).total;
    return out;
  };
  const drain = async (all: boolean) => {
    while (sent.length > 0 && (all || batchOf === "post" || sent.length >= batchOf)) {
      const batch = sent.splice(0, batchOf === "post" ? sent.length : batchOf);
      cost.queued += batch.length;
      await counted("consumer", () => deliver(batch));
    }
  };
  const realStart = Date.now();
  const t0 = realStart - 3600_000;
  const play = await counted("requests", async () => started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId })));
  const streamEvent = watchEvent(m.profileId, { playbackSessionId: play.id });
  const event = (type: WatchEvent["type"], tick: number): WatchEvent => ({ ...streamEvent, id: `hour-${heartbeatsKept}-${batchOf}-${tick}-${type}`, type, positionSec: tick * 30, durationSec: 7200, clientTime: t0 + tick * 30_000 });
  const send = async (events: WatchEvent[]) => {
    cost.events += events.length;
    const res = await counted("requests", () => fetchWith(overrides, "/v1/events", m.headers, { events }));
    expect(res.status).toBe(202);
    // Before: the api queued heartbeats like every other event (and the object wrote nothing).
    if (!heartbeatsKept) sent.push(...events.filter((e) => e.type === "heartbeat").map((e) => message(m.accountId, e)));
    await drain(false);
  };
  await send([event("start", 0)]);
  for (let tick = 1; tick <= 120; tick++) {
    const lease = await counted("requests", () => fetchWith(overrides, `/v1/playback/sessions/${play.id}/heartbeat`, m.headers, { positionSec: tick * 30 }));
    if (lease.status !== 200) throw new Error(`lease heartbeat ${lease.status}: ${await lease.text()}`);
    await send(tick === 40 ? [event("pause", tick)] : tick === 41 ? [event("seek", tick)] : tick === 120 ? [event("stop", tick)] : [event("heartbeat", tick)]);
    // The object's alarm, as it would fire every five minutes of this hour.
    if (heartbeatsKept && tick % 10 === 0) await counted("positions", () => writeDuePositions(m.accountId, Date.now() + tick * 30_000));
  }
  await drain(true);
  if (heartbeatsKept) await counted("positions", () => writeDuePositions(m.accountId, Date.now() + 3 * 3600_000));
  const landed = await scalar("SELECT position_sec AS n FROM watch_progress WHERE profile_id = ?", m.profileId);
  expect(landed).toBe(3600); // the stop's position, however it got there
  return cost;
}

describe("one hour of viewing in D1 statements", () => {
  it("heartbeats kept by the account's object cost ≥ 10× fewer statements in the watch pipeline than heartbeats through the Queue", async () => {
    const rows: string[] = [];
    const results: Record<string, { before: HourCost; after: HourCost }> = {};
    for (const batchOf of ["post", 100] as const) {
      const before = await viewingHour(false, batchOf);
      const after = await viewingHour(true, batchOf);
      results[String(batchOf)] = { before, after };
      const pipeline = (c: HourCost) => c.consumer + c.positions;
      rows.push(
        `consumer batches of ${batchOf === "post" ? "one POST" : "100 messages"}: watch pipeline ${pipeline(before)} → ${pipeline(after)} statements (${(pipeline(before) / pipeline(after)).toFixed(1)}x fewer); ` +
          `queued messages ${before.queued} → ${after.queued}; requests (session checks, Play) ${before.requests} → ${after.requests}; ` +
          `all D1 ${pipeline(before) + before.requests} → ${pipeline(after) + after.requests} (${((pipeline(before) + before.requests) / (pipeline(after) + after.requests)).toFixed(1)}x)`,
      );
    }
    console.log(`D1 statements per hour of viewing (one viewer, ${results.post!.before.events} events):\n  ${rows.join("\n  ")}`);
    const quiet = results.post!;
    expect(quiet.after.consumer + quiet.after.positions).toBeLessThanOrEqual((quiet.before.consumer + quiet.before.positions) / 10);
    const busy = results["100"]!;
    expect(busy.after.consumer + busy.after.positions).toBeLessThan(busy.before.consumer + busy.before.positions);
    // Heartbeats never reach the Queue any more: a start, a pause, a seek and a stop.
    expect(quiet.after.queued).toBe(4);
  }, 180_000);
});
