// Every reason Play is refused — each a clear 4xx with a reason a client can act on, and
// none of them takes a screen — and what a Durable Object failure turns into.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { ApiError } from "../../../lib/errors.ts";
import { createApp } from "../app.ts";
import { callDurableObject, isRetryable } from "../bindings/durable-object-retry.ts";
import { call } from "./auth-client.ts";
import { anotherDevice, heartbeat, memberOn, seedPlayableCatalog, startPlayback, stopPlayback } from "./playback-client.ts";

await seedPlayableCatalog();

async function refusal(res: Response, status: number, code: string, reason?: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = errorBodySchema.parse(JSON.parse(text));
  expect(body.error.code).toBe(code);
  if (reason !== undefined) expect(body.error.details).toMatchObject({ reason });
  expect(body.error.requestId).not.toBe("");
  return body;
}

async function activeStreams(headers: Record<string, string>) {
  const res = await call("/v1/playback/sessions", { headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { streams: unknown[] }).streams;
}

const addProfile = async (headers: Record<string, string>, json: Record<string, unknown>) => {
  const res = await call("/v1/profiles", { headers, json });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

describe("refusals", () => {
  it("no subscription, or a canceled one", async () => {
    const never = await memberOn(null);
    await refusal(await startPlayback(never.headers, { titleId: "first-light", profileId: never.profileId }), 403, "FORBIDDEN", "no_subscription");
    const gone = await memberOn("premium");
    await env.DB.prepare("UPDATE subscriptions SET status = 'canceled' WHERE account_id = ?").bind(gone.accountId).run();
    const body = await refusal(await startPlayback(gone.headers, { titleId: "first-light", profileId: gone.profileId }), 403, "FORBIDDEN", "no_subscription");
    expect(body.error.details).toMatchObject({ status: "canceled" });
    expect(await activeStreams(gone.headers)).toEqual([]);
  });

  it("a title above the profile's maturity level", async () => {
    const m = await memberOn("standard");
    const kid = await addProfile(m.headers, { name: "Kid", isKids: true });
    const teen = await addProfile(m.headers, { name: "Teen", maturityLevel: 2 });
    await refusal(await startPlayback(m.headers, { titleId: "second-wind", profileId: kid }), 403, "FORBIDDEN", "maturity");
    await refusal(await startPlayback(m.headers, { titleId: "late-night", profileId: teen }), 403, "FORBIDDEN", "maturity");
    expect((await startPlayback(m.headers, { titleId: "first-light", profileId: kid })).status).toBe(201);
  });

  it("unknown titles and episodes, and titles outside their availability window", async () => {
    const m = await memberOn("standard");
    const p = m.profileId;
    await refusal(await startPlayback(m.headers, { titleId: "no-such-title", profileId: p }), 404, "NOT_FOUND", "unknown_title");
    await refusal(await startPlayback(m.headers, { titleId: "long-gone", profileId: p }), 404, "NOT_FOUND", "unknown_title");
    await refusal(await startPlayback(m.headers, { titleId: "second-wind", episodeId: "first-light-s1e1", profileId: p }), 404, "NOT_FOUND", "unknown_episode");
    await refusal(await startPlayback(m.headers, { titleId: "first-light", episodeId: "second-wind-s1e1", profileId: p }), 404, "NOT_FOUND", "unknown_episode");
  });

  it("a title whose video is not published, or that has none", async () => {
    const m = await memberOn("standard");
    await refusal(await startPlayback(m.headers, { titleId: "coming-soon", profileId: m.profileId }), 404, "NOT_FOUND", "no_published_asset");
    await refusal(await startPlayback(m.headers, { titleId: "no-video", profileId: m.profileId }), 404, "NOT_FOUND", "no_published_asset");
  });

  it("another account's profile, and no profile at all", async () => {
    const a = await memberOn("standard");
    const b = await memberOn("standard");
    await refusal(await startPlayback(a.headers, { titleId: "first-light", profileId: b.profileId }), 404, "NOT_FOUND", "wrong_profile");
    await refusal(await startPlayback(a.headers, { titleId: "first-light" }), 403, "FORBIDDEN", "profile_required");
    expect(await activeStreams(b.headers)).toEqual([]);
  });

  it("a profile locked with a PIN that was not entered on this device; once entered, it plays", async () => {
    const m = await memberOn("standard");
    const locked = await addProfile(m.headers, { name: "Private", pin: "4821" });
    await refusal(await startPlayback(m.headers, { titleId: "first-light", profileId: locked }), 403, "FORBIDDEN", "profile_locked");
    // Entered on another device does not unlock it here.
    const tv = await anotherDevice(m.accountId, "TV");
    expect((await call(`/v1/profiles/${locked}/enter`, { headers: tv, json: { pin: "4821" } })).status).toBe(200);
    await refusal(await startPlayback(m.headers, { titleId: "first-light", profileId: locked }), 403, "FORBIDDEN", "profile_locked");
    expect((await startPlayback(tv, { titleId: "first-light", profileId: locked })).status).toBe(201);
  });

  it("a device in a kids profile cannot play as another profile", async () => {
    const m = await memberOn("standard");
    const kid = await addProfile(m.headers, { name: "Kid", isKids: true });
    const tablet = await anotherDevice(m.accountId, "Tablet");
    expect((await call(`/v1/profiles/${kid}/enter`, { headers: tablet, json: {} })).status).toBe(200);
    await refusal(await startPlayback(tablet, { titleId: "first-light", profileId: m.profileId }), 403, "FORBIDDEN", "kids_profile");
    expect((await startPlayback(tablet, { titleId: "first-light" })).status).toBe(201);
  });
});

describe("bad input", () => {
  it("is a 400 with the failing fields, and starts nothing", async () => {
    const m = await memberOn("standard");
    const bodies: unknown[] = [
      {},
      { titleId: "" },
      { titleId: 42 },
      { titleId: "first-light", profileId: m.profileId, extra: true },
      { titleId: "first-light", profileId: m.profileId, endStreamId: "not-a-stream" },
      { titleId: "first-light", profileId: m.profileId, clientSessionId: "short" },
      { titleId: "x".repeat(65), profileId: m.profileId },
    ];
    for (const json of bodies) await refusal(await startPlayback(m.headers, json as Record<string, unknown>), 400, "VALIDATION_FAILED");
    const raw = await call("/v1/playback/sessions", { method: "POST", headers: { ...m.headers, "content-type": "application/json" } });
    expect(raw.status).toBe(400);
    for (const positionSec of [-1, "ten", null, 1e12]) {
      await refusal(await call("/v1/playback/sessions/pbs_00000000000000000000/heartbeat", { headers: m.headers, json: { positionSec } }), 400, "VALIDATION_FAILED");
    }
    await refusal(await heartbeat(m.headers, "not-a-stream-id"), 400, "VALIDATION_FAILED");
    await refusal(await stopPlayback(m.headers, "nope"), 400, "VALIDATION_FAILED");
    expect(await activeStreams(m.headers)).toEqual([]);
  });

  it("without a session is a 401 on every playback route", async () => {
    await refusal(await startPlayback({}, { titleId: "first-light" }), 401, "UNAUTHORIZED");
    await refusal(await call("/v1/playback/sessions"), 401, "UNAUTHORIZED");
    await refusal(await heartbeat({}, "pbs_00000000000000000000"), 401, "UNAUTHORIZED");
    await refusal(await stopPlayback({}, "pbs_00000000000000000000"), 401, "UNAUTHORIZED");
    await refusal(await heartbeat({ Authorization: "Bearer nope" }, "pbs_00000000000000000000"), 401, "UNAUTHORIZED");
  });

  it("a heartbeat for a stream that never existed is a 409 that stops the player", async () => {
    const m = await memberOn("standard");
    await refusal(await heartbeat(m.headers, "pbs_00000000000000000000"), 409, "STREAM_ENDED", "unknown");
  });
});

describe("media Worker failures", () => {
  it("Play still starts without the inline master playlist; the player fetches it itself", async () => {
    const m = await memberOn("standard");
    const down = { fetch: () => Promise.reject(new Error("media Worker unreachable")), connect: () => { throw new Error("no"); } } as unknown as Fetcher;
    const ctx = createExecutionContext();
    const res = await createApp().request(
      "https://marquee.test/v1/playback/sessions",
      { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body: JSON.stringify({ titleId: "first-light", profileId: m.profileId }) },
      { ...env, MEDIA_WORKER: down },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { media: { hlsUrl: string; hlsMaster: string | null } };
    expect(body.media.hlsMaster).toBeNull();
    expect((await call(new URL(body.media.hlsUrl).pathname)).status).toBe(200);
  });

  it("an answer that is not a valid start bundle inlines nothing, rather than something half-checked", async () => {
    const m = await memberOn("standard");
    for (const answer of ['{"master":"#EXTM3U","startVariant":-1,"playlists":[]}', '{"master":"#EXTM3U","startVariant":0,"playlists":[],"extra":1}', "not json"]) {
      const odd = { fetch: async () => new Response(answer, { headers: { "content-type": "application/json" } }), connect: () => { throw new Error("no"); } } as unknown as Fetcher;
      const ctx = createExecutionContext();
      const res = await createApp().request(
        "https://marquee.test/v1/playback/sessions",
        { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body: JSON.stringify({ titleId: "first-light", profileId: m.profileId }) },
        { ...env, MEDIA_WORKER: odd },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status, answer).toBe(201);
      const body = (await res.json()) as { id: string; media: { hlsMaster: string | null; hlsPlaylists: unknown[]; hlsStartVariant: number | null } };
      expect(body.media, answer).toMatchObject({ hlsMaster: null, hlsPlaylists: [], hlsStartVariant: null });
      expect((await call(`/v1/playback/sessions/${body.id}`, { method: "DELETE", headers: m.headers })).status).toBe(204);
    }
  });
});

describe("Durable Object failures", () => {
  const infra = (props: Record<string, boolean>) => Object.assign(new Error("Durable Object reset because its code was updated."), props);
  const noSleep = { sleep: async () => {}, random: () => 0.5 };

  it("retries errors the runtime marks retryable, with a growing, jittered wait, then succeeds", async () => {
    const waits: number[] = [];
    let calls = 0;
    const answer = await callDurableObject(
      "acquire",
      async () => {
        if (++calls < 3) throw infra({ retryable: true });
        return "granted";
      },
      { attempts: 3, baseDelayMs: 100, random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
    );
    expect(answer).toBe("granted");
    expect(waits).toEqual([50, 100]);
  });

  it("never retries an overloaded object, nor an error of the object's own code: a 503 with Retry-After", async () => {
    for (const [err, retryAfter] of [
      [infra({ retryable: true, overloaded: true }), "4"],
      [infra({ remote: true }), "2"],
      [new TypeError("boom"), "2"],
    ] as const) {
      let calls = 0;
      const attempt = callDurableObject("acquire", async () => (calls++, Promise.reject(err)), noSleep);
      await expect(attempt).rejects.toBeInstanceOf(ApiError);
      await expect(attempt).rejects.toMatchObject({ status: 503, code: "UNAVAILABLE", headers: { "Retry-After": retryAfter } });
      expect(calls).toBe(1);
    }
    expect(isRetryable(infra({ retryable: true }))).toBe(true);
    expect(isRetryable(null)).toBe(false);
  });

  it("gives up after the last attempt at a retryable error with a 503", async () => {
    let calls = 0;
    await expect(callDurableObject("acquire", async () => (calls++, Promise.reject(infra({ retryable: true }))), { ...noSleep, attempts: 4 })).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(4);
  });
});
