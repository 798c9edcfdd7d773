// How many D1 round trips authentication costs: the session check is one query, and a
// fresh session adds no write (lastSeenAt is refreshed at most hourly, after the response).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import { signUp } from "./auth-client.ts";
import { countingD1 } from "./counting-d1.ts";

async function roundTrips(path: string, headers: Record<string, string>) {
  const { db, calls } = countingD1(env.DB);
  const ctx = createExecutionContext();
  const res = await createApp().request(`https://marquee.test${path}`, { headers }, { ...env, DB: db }, ctx);
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return { status: res.status, calls };
}

describe("D1 round trips", () => {
  it("are one for the session check, however the route's guards are registered", async () => {
    const m = await signUp();
    const sessions = await roundTrips("/v1/auth/sessions", m.headers);
    expect(sessions.status).toBe(200);
    expect(sessions.calls).toHaveLength(2);
    const profiles = await roundTrips("/v1/profiles", m.headers);
    expect(profiles.status).toBe(200);
    // The session check (1) and the route's own list (1).
    expect(profiles.calls).toHaveLength(2);
    const me = await roundTrips("/v1/me", m.headers);
    // The session check (1) and /v1/me's three reads in one batch (1).
    expect(me.calls).toEqual(["raw", "batch"]);
  });

  it("add a write only when lastSeenAt is over an hour old", async () => {
    const m = await signUp();
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE account_id = ?").bind(Date.now() - 2 * 3_600_000, m.accountId).run();
    const stale = await roundTrips("/v1/profiles", m.headers);
    expect(stale.calls).toHaveLength(3);
    const fresh = await roundTrips("/v1/profiles", m.headers);
    expect(fresh.calls).toHaveLength(2);
  });
});
