// What the api writes to its logs, captured at the most talkative level while a member
// signs up, signs in (also wrongly), plays, beats, reports events and fails: every request
// line carries its request id, and no line carries a password, a session token or cookie,
// a CSRF or playback token, a watch party's invite, or a full email address.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { captureLogs } from "../../../test-support/capture-logs.ts";
import worker from "../index.ts";
import { seedPlayableCatalog } from "./playback-client.ts";

await seedPlayableCatalog();

const lines = captureLogs();
const debugEnv = { ...env, LOG_LEVEL: "debug" };

async function request(path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  // The Worker's own entry: the /p/* forwarding to the media Worker included.
  const res = await worker.fetch(new Request(`https://localhost${path}`, init) as Parameters<typeof worker.fetch>[0], debugEnv, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, text, json: () => JSON.parse(text) as Record<string, any> };
}

describe("logs", () => {
  it("carry request ids and none of the secrets that passed through", async () => {
    const email = "secretive.member@example.com";
    const password = "a long and unusual passphrase 9271";
    const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

    const web = await request("/v1/auth/signup", json({ email, password, client: "web" }));
    expect(web.res.status).toBe(201);
    const cookie = /__Host-marquee_session=([^;]+)/.exec(web.res.headers.get("set-cookie") ?? "")![1]!;
    const csrf = web.json().csrfToken as string;
    await request("/v1/auth/login", json({ email, password: "wrong password entirely" }));
    const device = await request("/v1/auth/login", json({ email, password, client: "device" }));
    const token = device.json().token as string;
    const auth = { Authorization: `Bearer ${token}` };
    await request("/v1/billing/checkout", json({ planId: "premium" }, { cookie: `__Host-marquee_session=${cookie}`, "x-csrf-token": csrf }));
    const me = (await request("/v1/me", { headers: auth })).json();
    const profileId = me.profiles[0].id as string;
    const play = await request("/v1/playback/sessions", json({ titleId: "first-light", profileId }, auth));
    expect(play.res.status).toBe(201);
    const started = play.json();
    const playbackToken = new URL(started.media.hlsUrl).pathname.split("/")[2]!;
    await request(new URL(started.media.hlsUrl).pathname, { headers: auth });
    await request(`/v1/playback/sessions/${started.id}/heartbeat`, json({ positionSec: 3 }, auth));
    await request("/v1/events", json({ events: [{ id: "evt-logs-00000001", type: "heartbeat", playbackSessionId: started.id, profileId, titleId: "first-light", positionSec: 3, durationSec: 6, clientTime: Date.now() }] }, auth));
    await request("/v1/home?profile=" + profileId, { headers: { cookie: `__Host-marquee_session=${cookie}` } });
    await request("/v1/events", json({ events: "not a list" }, auth));
    await request("/v1/nope", { headers: auth });
    const party = await request("/v1/parties", json({ titleId: "first-light", profileId }, auth));
    expect(party.res.status).toBe(201);
    const invite = party.json().partyId as string;
    await request(`/v1/parties/${invite}`, { headers: auth });
    await request(`/party/${invite}`, { headers: { cookie: `__Host-marquee_session=${cookie}` } });

    const requestLines = lines.filter((l) => l.includes('"event":"request"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(10);
    for (const line of requestLines) expect(JSON.parse(line).requestId, line).toMatch(/^[0-9a-f-]{36}$/);
    const all = lines.join("\n");
    for (const secret of [password, token, cookie, csrf, playbackToken, email, invite]) {
      expect(all.includes(secret), `a log line contains ${secret.slice(0, 12)}…`).toBe(false);
    }
    // Not even the address's local part next to its domain in another shape.
    expect(all).not.toMatch(/secretive\.member/);
  });
});
