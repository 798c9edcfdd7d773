// The cron trigger's housekeeping, through the Worker's real scheduled handler.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../index.ts";
import { call, signUp } from "./auth-client.ts";
import { shardDbOf } from "./events-client.ts";

describe("the scheduled handler", () => {
  it("deletes dead sessions, old billing events and old watch events (in their shard), and nothing live", async () => {
    const [live, expired, idle] = [await signUp(), await signUp(), await signUp()];
    const now = Date.now();
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE account_id = ?").bind(now - 1000, expired.accountId).run();
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE account_id = ?").bind(now - 400 * 86_400_000, idle.accountId).run();
    await env.DB.prepare("INSERT INTO billing_events (id, type, received_at) VALUES ('evt_old', 't', ?), ('evt_new', 't', ?)")
      .bind(now - 31 * 86_400_000, now - 86_400_000)
      .run();

    const shardDb = shardDbOf("prf_x");
    const watchEvent = (id: string, receivedAt: number) =>
      shardDb.prepare(
        `INSERT INTO watch_events (profile_id, event_id, batch_tag, account_id, type, playback_session_id, title_id, position_sec, duration_sec, client_at, received_at, day, country)
         VALUES ('prf_x', ?, 'b', 'acc_x', 'heartbeat', 'pbs_x', 't', 1, 2, ?, ?, '2026-01-01', 'FR')`,
      ).bind(id, receivedAt, receivedAt);
    await shardDb.batch([watchEvent("evt-old", now - 4 * 86_400_000), watchEvent("evt-recent", now - 86_400_000)]);

    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "*/15 * * * *" }), env);

    const left = await env.DB.prepare("SELECT account_id FROM sessions").all<{ account_id: string }>();
    expect(left.results.map((r) => r.account_id)).toEqual([live.accountId]);
    const events = await env.DB.prepare("SELECT id FROM billing_events").all<{ id: string }>();
    expect(events.results.map((r) => r.id)).toEqual(["evt_new"]);
    // Watch events are kept past any redelivery (3 days), then go.
    const watch = await shardDb.prepare("SELECT event_id FROM watch_events").all<{ event_id: string }>();
    expect(watch.results.map((r) => r.event_id)).toEqual(["evt-recent"]);
    expect((await call("/v1/me", { headers: live.headers })).status).toBe(200);
  });
});
