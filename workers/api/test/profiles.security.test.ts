// Profiles under attack: PIN guesses and profile creates sent in parallel bursts, PINs
// changed from inside a profile without knowing them, and devices that stay inside a
// profile after its PIN changed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { MAX_PROFILES, PIN_THROTTLE_LIMITS } from "../profiles/profiles.ts";
import { call, signUp } from "./auth-client.ts";
import { anotherDevice } from "./playback-client.ts";

type Profile = { id: string; hasPin: boolean };

async function expectError(res: Response, status: number, code: string, reason?: string) {
  const text = await res.text();
  expect(res.status, text.slice(0, 200)).toBe(status);
  const body = errorBodySchema.parse(JSON.parse(text));
  expect(body.error.code).toBe(code);
  if (reason) expect((body.error.details as { reason?: string }).reason).toBe(reason);
  return body;
}

async function addProfile(headers: Record<string, string>, json: Record<string, unknown>): Promise<Profile> {
  const res = await call("/v1/profiles", { json, headers });
  expect(res.status).toBe(201);
  return (await res.json()) as Profile;
}

const enter = (headers: Record<string, string>, id: string, pin?: string) => call(`/v1/profiles/${id}/enter`, { json: pin === undefined ? {} : { pin }, headers });
const patch = (headers: Record<string, string>, id: string, json: Record<string, unknown>, address?: string) =>
  call(`/v1/profiles/${id}`, { method: "PATCH", json, headers: { ...headers, ...(address ? { "CF-Connecting-IP": address } : {}) } });
const enteredProfile = async (headers: Record<string, string>) => ((await (await call("/v1/me", { headers })).json()) as { session: { profileId: string | null } }).session.profileId;

describe("a PIN guessed in a parallel burst", () => {
  it("gets exactly the limit's checks: 19 wrong and the right one at once never make more than 5 checks", async () => {
    const m = await signUp();
    const locked = await addProfile(m.headers, { name: "Private", pin: "4821" });
    const pins = [...Array.from({ length: 19 }, (_, i) => String(1000 + i)), "4821"];
    const answers = await Promise.all(pins.map((pin) => enter(m.headers, locked.id, pin)));
    const statuses = answers.map((r) => r.status);
    const rightOne = statuses[19]!;
    expect(statuses.filter((s) => s === 403).length + statuses.filter((s) => s === 200).length).toBe(PIN_THROTTLE_LIMITS.maxFailures);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - PIN_THROTTLE_LIMITS.maxFailures);
    // The right PIN got in only if it was one of the five checks made.
    expect([200, 429]).toContain(rightOne);
    expect(await enteredProfile(m.headers)).toBe(rightOne === 200 ? locked.id : null);
  });

  it("once the limit is spent, refuses the right PIN too, and the device stays outside", async () => {
    const m = await signUp();
    const locked = await addProfile(m.headers, { name: "Private", pin: "4821" });
    for (let i = 0; i < 5; i++) await expectError(await enter(m.headers, locked.id, "0000"), 403, "FORBIDDEN", "wrong_pin");
    const burst = await Promise.all([...Array.from({ length: 9 }, () => enter(m.headers, locked.id, "1111")), enter(m.headers, locked.id, "4821")]);
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(429));
    expect(await enteredProfile(m.headers)).toBeNull();
  });
});

describe("the five-profile limit", () => {
  it("holds under 12 parallel creates: exactly the missing four are made", async () => {
    const m = await signUp();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call("/v1/profiles", { json: { name: `Burst ${i}` }, headers: m.headers })));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(MAX_PROFILES - 1);
    const refused = answers.filter((r) => r.status === 409);
    expect(refused).toHaveLength(12 - (MAX_PROFILES - 1));
    await expectError(refused[0]!, 409, "CONFLICT");
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM profiles WHERE account_id = ?").bind(m.accountId).first<number>("n");
    expect(n).toBe(MAX_PROFILES);
  });
});

describe("setting or changing a PIN", () => {
  it("signs every other device out of the profile; the device that set it stays", async () => {
    const m = await signUp();
    const profile = await addProfile(m.headers, { name: "Shared" });
    const tv = await anotherDevice(m.accountId, "TV");
    const tablet = await anotherDevice(m.accountId, "Tablet");
    for (const headers of [m.headers, tv, tablet]) expect((await enter(headers, profile.id)).status).toBe(200);
    // Setting a PIN where there was none needs no proof, and ends the others' entry.
    expect((await patch(m.headers, profile.id, { pin: "2468" })).status).toBe(200);
    expect(await enteredProfile(m.headers)).toBe(profile.id);
    expect(await enteredProfile(tv)).toBeNull();
    expect(await enteredProfile(tablet)).toBeNull();
    // Outside, the TV is refused the profile's things until it enters with the new PIN.
    await expectError(await call(`/v1/profiles/${profile.id}/continue-watching`, { headers: tv }), 403, "FORBIDDEN", "profile_locked");
    expect((await enter(tv, profile.id, "2468")).status).toBe(200);
    // Changing it (with the current PIN) signs the TV out again.
    expect((await patch(m.headers, profile.id, { pin: "1357", currentPin: "2468" })).status).toBe(200);
    expect(await enteredProfile(tv)).toBeNull();
    expect(await enteredProfile(m.headers)).toBe(profile.id);
  });

  it("from inside the profile, needs the current PIN or the account password: a device inside cannot change it blind", async () => {
    const m = await signUp();
    const profile = await addProfile(m.headers, { name: "Mine", pin: "4821" });
    const tv = await anotherDevice(m.accountId, "TV");
    expect((await enter(tv, profile.id, "4821")).status).toBe(200);
    await expectError(await patch(tv, profile.id, { pin: "0000" }), 403, "FORBIDDEN", "pin_required");
    await expectError(await patch(tv, profile.id, { pin: null }), 403, "FORBIDDEN", "pin_required");
    await expectError(await patch(tv, profile.id, { pin: "0000", currentPin: "1111" }), 403, "FORBIDDEN", "wrong_pin");
    const stored = await env.DB.prepare("SELECT pin_hash FROM profiles WHERE id = ?").bind(profile.id).first<string>("pin_hash");
    // Other changes from inside need nothing more, as before.
    expect((await patch(tv, profile.id, { name: "Ours" })).status).toBe(200);
    expect(await env.DB.prepare("SELECT pin_hash FROM profiles WHERE id = ?").bind(profile.id).first<string>("pin_hash")).toBe(stored);
    expect((await patch(tv, profile.id, { pin: null, currentPin: "4821" })).status).toBe(200);
    expect(await env.DB.prepare("SELECT pin_hash FROM profiles WHERE id = ?").bind(profile.id).first<string>("pin_hash")).toBeNull();
  });

  it("counts wrong current PINs with the PIN's own throttle", async () => {
    const m = await signUp();
    const profile = await addProfile(m.headers, { name: "Mine", pin: "4821" });
    expect((await enter(m.headers, profile.id, "4821")).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => patch(m.headers, profile.id, { pin: "0000", currentPin: String(2000 + i) })));
    expect(answers.filter((r) => r.status === 403)).toHaveLength(PIN_THROTTLE_LIMITS.maxFailures);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(12 - PIN_THROTTLE_LIMITS.maxFailures);
    await expectError(await patch(m.headers, profile.id, { pin: "0000", currentPin: "4821" }), 429, "RATE_LIMITED");
  });

  it("a forgotten PIN is removed with the account password, from any adult device; a wrong password is refused and throttled", async () => {
    const m = await signUp();
    const profile = await addProfile(m.headers, { name: "Forgotten", pin: "9753" });
    const phone = await anotherDevice(m.accountId, "Phone");
    // Not inside the profile: refused without the password.
    await expectError(await patch(phone, profile.id, { name: "Renamed" }), 403, "FORBIDDEN", "profile_locked");
    await expectError(await patch(phone, profile.id, { pin: null, password: "not the password" }, "198.51.100.60"), 403, "FORBIDDEN", "wrong_password");
    expect((await patch(phone, profile.id, { pin: null, password: m.password }, "198.51.100.61")).status).toBe(200);
    expect(await env.DB.prepare("SELECT pin_hash FROM profiles WHERE id = ?").bind(profile.id).first<string>("pin_hash")).toBeNull();
    // The password is checked under the sign-in throttles: no free oracle.
    const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => patch(phone, profile.id, { name: "x", password: `guess ${i}` }, "198.51.100.62")));
    expect(guesses.filter((r) => r.status === 403)).toHaveLength(5);
    expect(guesses.filter((r) => r.status === 429)).toHaveLength(3);
  });
});
