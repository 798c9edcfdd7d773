// What sign-in and sessions refuse: guessing, enumeration, stale and revoked sessions,
// cross-site requests.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { call, signUp } from "./auth-client.ts";

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  return body;
}

const login = (email: string, password: string, address = "203.0.113.1") =>
  call("/v1/auth/login", { json: { email, password }, headers: { "CF-Connecting-IP": address } });

describe("sign-in", () => {
  it("answers a wrong password and an unknown email the same way", async () => {
    const member = await signUp();
    const wrong = await expectError(await login(member.email, "not the password at all"), 401, "UNAUTHORIZED");
    const unknown = await expectError(await login("nobody-here@example.com", "not the password at all"), 401, "UNAUTHORIZED");
    expect(wrong.error.message).toBe(unknown.error.message);
  });

  it("throttles an account after 5 failures with 429 and Retry-After, even with the right password", async () => {
    const member = await signUp();
    for (let i = 0; i < 5; i++) await expectError(await login(member.email, `wrong guess ${i}`, `198.51.100.${i}`), 401, "UNAUTHORIZED");
    const blocked = await login(member.email, member.password, "198.51.100.99");
    await expectError(blocked, 429, "RATE_LIMITED");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("throttles one client address spraying guesses across accounts", async () => {
    const address = "192.0.2.77";
    for (let i = 0; i < 30; i++) await login(`spray-${i}@example.com`, "password guess", address);
    const member = await signUp();
    await expectError(await login(member.email, member.password, address), 429, "RATE_LIMITED");
    expect((await login(member.email, member.password, "192.0.2.78")).status).toBe(200);
  });

  it("refuses weak, short and overlong passwords at sign-up, and a taken email", async () => {
    for (const password of ["short", "password123", "x".repeat(129)]) {
      await expectError(await call("/v1/auth/signup", { json: { email: `weak${password.length}@example.com`, password } }), 400, "VALIDATION_FAILED");
    }
    const member = await signUp();
    await expectError(await call("/v1/auth/signup", { json: { email: member.email.toUpperCase(), password: "another good passphrase" } }), 409, "CONFLICT");
    await expectError(await call("/v1/auth/signup", { json: { email: "not-an-email", password: "another good passphrase" } }), 400, "VALIDATION_FAILED");
  });
});

describe("sessions", () => {
  it("refuse a missing, malformed or made-up token", async () => {
    await expectError(await call("/v1/me"), 401, "UNAUTHORIZED");
    await expectError(await call("/v1/me", { headers: { Authorization: "Bearer" } }), 401, "UNAUTHORIZED");
    await expectError(await call("/v1/me", { headers: { Authorization: "Bearer made-up-token-made-up-token-made-up-token-0" } }), 401, "UNAUTHORIZED");
  });

  it("end after the idle timeout and at the absolute expiry", async () => {
    const idle = await signUp();
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE account_id = ?").bind(Date.now() - 61 * 86_400_000, idle.accountId).run();
    await expectError(await call("/v1/me", { headers: idle.headers }), 401, "UNAUTHORIZED");
    const old = await signUp();
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE account_id = ?").bind(Date.now() - 1, old.accountId).run();
    await expectError(await call("/v1/me", { headers: old.headers }), 401, "UNAUTHORIZED");
  });

  it("refuse a cookie session's change without its CSRF token, or with another session's", async () => {
    const member = await signUp();
    const web = async () => {
      const res = await call("/v1/auth/login", { json: { email: member.email, password: member.password, client: "web" } });
      return { cookie: res.headers.get("set-cookie")!.split(";")[0]!, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
    };
    const [a, b] = [await web(), await web()];
    const body = await expectError(await call("/v1/profiles", { json: { name: "Intruder" }, headers: { Cookie: a.cookie } }), 403, "FORBIDDEN");
    expect(body.error.details).toEqual({ reason: "csrf" });
    await expectError(await call("/v1/profiles", { json: { name: "Intruder" }, headers: { Cookie: a.cookie, "X-CSRF-Token": b.csrf } }), 403, "FORBIDDEN");
    await expectError(await call("/v1/auth/logout-all", { method: "POST", headers: { Cookie: a.cookie } }), 403, "FORBIDDEN");
    // Nothing changed: still one profile, and the sessions still work.
    const me = (await (await call("/v1/me", { headers: { Cookie: a.cookie } })).json()) as { profiles: unknown[] };
    expect(me.profiles).toHaveLength(1);
  });
});
