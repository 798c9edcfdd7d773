// The authorization matrix of the member routes added with playback, watch events and
// home rows: every route against every kind of caller that must not get through —
// anonymous, an expired session, a signed-out (revoked) session, the admin token, another
// account, and a device in a kids profile reaching for the adult profile. Each is refused
// with the right status in the standard error body, and the owner's data is unchanged.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { ADMIN } from "./admin-client.ts";
import { call } from "./auth-client.ts";
import { anotherDevice, memberOn, seedPlayableCatalog, startPlayback, started } from "./playback-client.ts";

await seedPlayableCatalog();

const owner = await memberOn("premium");
const kidsProfileId = ((await (await call("/v1/profiles", { headers: owner.headers, json: { name: "Kid", isKids: true } })).json()) as { id: string }).id;
const stream = await started(await startPlayback(owner.headers, { titleId: "first-light", profileId: owner.profileId }));
await call(`/v1/profiles/${owner.profileId}/list/first-light`, { method: "PUT", headers: owner.headers });

/** Every member route of these issues, with the owner's ids in it. */
const routes: { name: string; method: string; path: string; json?: unknown }[] = [
  { name: "start playback", method: "POST", path: "/v1/playback/sessions", json: { titleId: "first-light", profileId: owner.profileId } },
  { name: "list streams", method: "GET", path: "/v1/playback/sessions" },
  { name: "heartbeat", method: "POST", path: `/v1/playback/sessions/${stream.id}/heartbeat`, json: { positionSec: 1 } },
  { name: "stop stream", method: "DELETE", path: `/v1/playback/sessions/${stream.id}` },
  { name: "events", method: "POST", path: "/v1/events", json: { events: [{ id: "evt-matrix-000001", type: "heartbeat", playbackSessionId: stream.id, profileId: owner.profileId, titleId: "first-light", positionSec: 1, durationSec: 6, clientTime: Date.now() }] } },
  { name: "continue watching", method: "GET", path: `/v1/profiles/${owner.profileId}/continue-watching` },
  { name: "history", method: "GET", path: `/v1/profiles/${owner.profileId}/history` },
  { name: "remove from history", method: "DELETE", path: `/v1/profiles/${owner.profileId}/history/first-light` },
  { name: "home", method: "GET", path: `/v1/home?profile=${owner.profileId}` },
  { name: "in My List", method: "GET", path: `/v1/profiles/${owner.profileId}/list/first-light` },
  { name: "add to My List", method: "PUT", path: `/v1/profiles/${owner.profileId}/list/second-wind` },
  { name: "remove from My List", method: "DELETE", path: `/v1/profiles/${owner.profileId}/list/first-light` },
  { name: "rating", method: "GET", path: `/v1/profiles/${owner.profileId}/ratings/first-light` },
  { name: "rate", method: "PUT", path: `/v1/profiles/${owner.profileId}/ratings/first-light`, json: { rating: "down" } },
];

async function signedOutDevice() {
  const headers = await anotherDevice(owner.accountId, "Old phone");
  expect((await call("/v1/auth/logout", { method: "POST", headers })).status).toBe(204);
  return headers;
}

async function expiredDevice() {
  const headers = await anotherDevice(owner.accountId, "Forgotten tablet");
  await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE device_name = 'Forgotten tablet' AND account_id = ?").bind(Date.now() - 1000, owner.accountId).run();
  return headers;
}

async function kidsDevice() {
  const headers = await anotherDevice(owner.accountId, "Kids tablet");
  expect((await call(`/v1/profiles/${kidsProfileId}/enter`, { headers, json: {} })).status).toBe(200);
  return headers;
}

/** The owner's state every refusal must leave as it was. */
async function ownerState() {
  const list = await env.DB.prepare("SELECT title_id FROM profile_list WHERE profile_id = ? ORDER BY title_id").bind(owner.profileId).all();
  const ratings = await env.DB.prepare("SELECT title_id, rating FROM profile_ratings WHERE profile_id = ?").bind(owner.profileId).all();
  const streams = (await (await call("/v1/playback/sessions", { headers: owner.headers })).json()) as { streams: { id: string; positionSec: number }[] };
  return { list: list.results, ratings: ratings.results, streams: streams.streams.map((s) => s.id) };
}

describe("the authorization matrix of the member routes", () => {
  it("refuses every route to every caller who may not use it, and changes nothing of the owner's", async () => {
    const stranger = await memberOn("premium");
    const callers: { name: string; headers: () => Promise<Record<string, string>>; expect: (route: (typeof routes)[number]) => number[] }[] = [
      { name: "anonymous", headers: async () => ({}), expect: () => [401] },
      { name: "an expired session", headers: expiredDevice, expect: () => [401] },
      { name: "a signed-out session", headers: signedOutDevice, expect: () => [401] },
      { name: "the admin token", headers: async () => ADMIN, expect: () => [401] },
      { name: "a garbage bearer token", headers: async () => ({ Authorization: "Bearer not-a-session" }), expect: () => [401] },
      // Another account: the owner's profile and stream do not exist for it. (Its own empty
      // stream list is an answer, not a leak: left out below.)
      { name: "another account", headers: async () => stranger.headers, expect: (r) => (r.name === "heartbeat" ? [409] : [403, 404]) },
      // A kids profile's device: nothing of the adult profile, and no other device's stream.
      { name: "a kids profile's device", headers: kidsDevice, expect: (r) => (r.name === "heartbeat" ? [404] : [403]) },
    ];
    const before = await ownerState();
    const outcomes: string[] = [];
    for (const caller of callers) {
      const headers = await caller.headers();
      for (const route of routes) {
        // Listing the account's streams is an answer for any signed-in caller (the stranger's
        // list is its own, empty; a kids device may see what plays on its account).
        if (route.name === "list streams" && (caller.name === "another account" || caller.name === "a kids profile's device")) continue;
        const res = await call(route.path, { method: route.method, headers, ...(route.json === undefined ? {} : { json: route.json }) });
        const text = await res.text();
        outcomes.push(`${caller.name} / ${route.name}: ${res.status}`);
        expect(caller.expect(route), `${caller.name} / ${route.name} answered ${res.status}: ${text.slice(0, 160)}`).toContain(res.status);
        expect(errorBodySchema.safeParse(JSON.parse(text)).success, `${caller.name} / ${route.name}: ${text.slice(0, 160)}`).toBe(true);
      }
    }
    expect(outcomes.length).toBeGreaterThanOrEqual(routes.length * callers.length - 3);
    // The owner still has its list, no rating, its one stream — and it still beats.
    expect(await ownerState()).toEqual(before);
    expect((await call(`/v1/playback/sessions/${stream.id}/heartbeat`, { headers: owner.headers, json: { positionSec: 2 } })).status).toBe(200);
  });
});
