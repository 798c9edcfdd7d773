// Profiles: at most five, kids profiles and their limits, PINs; and the authorization
// matrix — account A can read or change nothing of account B's.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { call, signUp } from "./auth-client.ts";

type Profile = { id: string; name: string; isKids: boolean; maturityLevel: number; hasPin: boolean };

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  return body;
}

const addProfile = async (headers: Record<string, string>, json: Record<string, unknown>) => {
  const res = await call("/v1/profiles", { json, headers });
  expect(res.status, JSON.stringify(json)).toBe(201);
  return (await res.json()) as Profile;
};

describe("profiles", () => {
  it("are at most five per account", async () => {
    const m = await signUp();
    for (let i = 2; i <= 5; i++) await addProfile(m.headers, { name: `P${i}` });
    await expectError(await call("/v1/profiles", { json: { name: "Sixth" }, headers: m.headers }), 409, "CONFLICT");
    const list = (await (await call("/v1/profiles", { headers: m.headers })).json()) as { profiles: Profile[] };
    expect(list.profiles).toHaveLength(5);
  });

  it("can be changed and deleted; a kids profile is capped at a kids' level", async () => {
    const m = await signUp();
    const kid = await addProfile(m.headers, { name: "Kid", isKids: true });
    expect(kid).toMatchObject({ isKids: true, maturityLevel: 1 });
    await expectError(await call(`/v1/profiles/${kid.id}`, { method: "PATCH", json: { maturityLevel: 3 }, headers: m.headers }), 400, "VALIDATION_FAILED");
    const renamed = await call(`/v1/profiles/${kid.id}`, { method: "PATCH", json: { name: "Little One", language: "fr" }, headers: m.headers });
    expect(await renamed.json()).toMatchObject({ name: "Little One", isKids: true });
    const adult = await addProfile(m.headers, { name: "Grown-up" });
    const madeKids = (await (await call(`/v1/profiles/${adult.id}`, { method: "PATCH", json: { isKids: true }, headers: m.headers })).json()) as Profile;
    expect(madeKids.maturityLevel).toBe(1);
    expect((await call(`/v1/profiles/${kid.id}`, { method: "DELETE", headers: m.headers })).status).toBe(204);
    await expectError(await call(`/v1/profiles/${kid.id}`, { method: "DELETE", headers: m.headers }), 404, "NOT_FOUND");
  });

  it("with a PIN need it to be entered; the PIN is stored hashed; wrong PINs are throttled", async () => {
    const m = await signUp();
    const locked = await addProfile(m.headers, { name: "Private", pin: "4821" });
    expect(locked.hasPin).toBe(true);
    const stored = await env.DB.prepare("SELECT pin_hash FROM profiles WHERE id = ?").bind(locked.id).first<{ pin_hash: string }>();
    expect(stored!.pin_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    await expectError(await call(`/v1/profiles/${locked.id}/enter`, { json: {}, headers: m.headers }), 403, "FORBIDDEN");
    const wrong = await expectError(await call(`/v1/profiles/${locked.id}/enter`, { json: { pin: "0000" }, headers: m.headers }), 403, "FORBIDDEN");
    expect(wrong.error.details).toEqual({ reason: "wrong_pin" });
    const entered = await call(`/v1/profiles/${locked.id}/enter`, { json: { pin: "4821" }, headers: m.headers });
    expect(entered.status).toBe(200);
    const me = (await (await call("/v1/me", { headers: m.headers })).json()) as { session: { profileId: string } };
    expect(me.session.profileId).toBe(locked.id);
    for (let i = 0; i < 5; i++) await call(`/v1/profiles/${locked.id}/enter`, { json: { pin: "1111" }, headers: m.headers });
    const blocked = await call(`/v1/profiles/${locked.id}/enter`, { json: { pin: "4821" }, headers: m.headers });
    await expectError(blocked, 429, "RATE_LIMITED");
    expect(blocked.headers.get("retry-after")).toBeTruthy();
    await expectError(await call("/v1/profiles", { json: { name: "Bad PIN", pin: "12a4" }, headers: m.headers }), 400, "VALIDATION_FAILED");
  });

  it("entered as a kids profile cannot change profiles or the account", async () => {
    const m = await signUp();
    const kid = await addProfile(m.headers, { name: "Kid", isKids: true });
    expect((await call(`/v1/profiles/${kid.id}/enter`, { json: {}, headers: m.headers })).status).toBe(200);
    const me = (await (await call("/v1/me", { headers: m.headers })).json()) as { profiles: Profile[] };
    const adultId = me.profiles.find((p) => !p.isKids)!.id;
    for (const [path, method, json] of [
      ["/v1/profiles", "POST", { name: "Sneaky" }],
      [`/v1/profiles/${adultId}`, "PATCH", { maturityLevel: 0 }],
      [`/v1/profiles/${adultId}`, "DELETE", undefined],
      ["/v1/auth/logout-all", "POST", undefined],
    ] as const) {
      const body = await expectError(await call(path, { method, json, headers: m.headers }), 403, "FORBIDDEN");
      expect(body.error.details).toEqual({ reason: "kids_profile" });
    }
    // It can still list profiles and leave for another one.
    expect((await call("/v1/profiles", { headers: m.headers })).status).toBe(200);
    expect((await call(`/v1/profiles/${adultId}/enter`, { json: {}, headers: m.headers })).status).toBe(200);
  });
});

describe("authorization: account A against account B's things", () => {
  it("reads and changes nothing of B's profiles or sessions", async () => {
    const [a, b] = [await signUp(), await signUp()];
    const bProfile = await addProfile(b.headers, { name: "B's", pin: "9999" });
    const bSessions = (await (await call("/v1/auth/sessions", { headers: b.headers })).json()) as { sessions: { id: string }[] };
    const bSession = bSessions.sessions[0]!.id;
    await expectError(await call(`/v1/profiles/${bProfile.id}`, { method: "PATCH", json: { name: "Mine" }, headers: a.headers }), 404, "NOT_FOUND");
    await expectError(await call(`/v1/profiles/${bProfile.id}`, { method: "DELETE", headers: a.headers }), 404, "NOT_FOUND");
    await expectError(await call(`/v1/profiles/${bProfile.id}/enter`, { json: { pin: "9999" }, headers: a.headers }), 404, "NOT_FOUND");
    await expectError(await call(`/v1/auth/sessions/${bSession}`, { method: "DELETE", headers: a.headers }), 404, "NOT_FOUND");
    const aList = (await (await call("/v1/profiles", { headers: a.headers })).json()) as { profiles: Profile[] };
    expect(aList.profiles.map((p) => p.id)).not.toContain(bProfile.id);
    const aSessions = (await (await call("/v1/auth/sessions", { headers: a.headers })).json()) as { sessions: { id: string }[] };
    expect(aSessions.sessions.map((s) => s.id)).not.toContain(bSession);
    const aMe = (await (await call("/v1/me", { headers: a.headers })).json()) as { account: { id: string }; profiles: Profile[] };
    expect(aMe.account.id).toBe(a.accountId);
    // B is untouched.
    const bMe = (await (await call("/v1/me", { headers: b.headers })).json()) as { profiles: Profile[] };
    expect(bMe.profiles.find((p) => p.id === bProfile.id)).toMatchObject({ name: "B's", hasPin: true });
  });
});
