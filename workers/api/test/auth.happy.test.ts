// Signing up, in and out, on devices and on the web, and what the account sees of itself.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, signUp } from "./auth-client.ts";

describe("an account", () => {
  it("signs up with a first profile and is signed in as a device", async () => {
    const member = await signUp("Ada@Example.com ");
    const me = await call("/v1/me", { headers: member.headers });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { account: { email: string }; subscription: { status: string }; profiles: { name: string; hasPin: boolean }[] };
    expect(body.account.email).toBe("ada@example.com");
    expect(body.subscription).toEqual({ status: "none" });
    expect(body.profiles).toEqual([expect.objectContaining({ name: "ada", hasPin: false, isKids: false, maturityLevel: 3 })]);
    // The token itself is never stored, only its SHA-256.
    const stored = await env.DB.prepare("SELECT id FROM sessions WHERE account_id = ?").bind(member.accountId).first<{ id: string }>();
    expect(stored!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(stored!.id).not.toBe(member.token);
    expect(member.token.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url
  });

  it("gets a new session token at every sign-in, and several devices can be signed in", async () => {
    const member = await signUp();
    const login = () => call("/v1/auth/login", { json: { email: member.email, password: member.password, deviceName: "Living room TV" } });
    const [a, b] = await Promise.all([login(), login()]);
    const [ta, tb] = [((await a.json()) as { token: string }).token, ((await b.json()) as { token: string }).token];
    expect(ta).not.toBe(tb);
    const sessions = (await (await call("/v1/auth/sessions", { headers: { Authorization: `Bearer ${ta}` } })).json()) as { sessions: { deviceName: string; current: boolean }[] };
    expect(sessions.sessions).toHaveLength(3);
    expect(sessions.sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.sessions.filter((s) => s.deviceName === "Living room TV")).toHaveLength(2);
  });

  it("signs out at once on the server", async () => {
    const member = await signUp();
    expect((await call("/v1/auth/logout", { method: "POST", headers: member.headers })).status).toBe(204);
    expect((await call("/v1/me", { headers: member.headers })).status).toBe(401);
  });

  it("signs out everywhere: every session of the account ends", async () => {
    const member = await signUp();
    const other = (await (await call("/v1/auth/login", { json: { email: member.email, password: member.password } })).json()) as { token: string };
    expect((await call("/v1/auth/logout-all", { method: "POST", headers: member.headers })).status).toBe(204);
    expect((await call("/v1/me", { headers: member.headers })).status).toBe(401);
    expect((await call("/v1/me", { headers: { Authorization: `Bearer ${other.token}` } })).status).toBe(401);
  });

  it("ends one chosen session from the list of devices", async () => {
    const member = await signUp();
    const tv = (await (await call("/v1/auth/login", { json: { email: member.email, password: member.password, deviceName: "TV" } })).json()) as { token: string };
    const list = (await (await call("/v1/auth/sessions", { headers: member.headers })).json()) as { sessions: { id: string; deviceName: string }[] };
    const tvSession = list.sessions.find((s) => s.deviceName === "TV")!;
    expect((await call(`/v1/auth/sessions/${tvSession.id}`, { method: "DELETE", headers: member.headers })).status).toBe(204);
    expect((await call("/v1/me", { headers: { Authorization: `Bearer ${tv.token}` } })).status).toBe(401);
    expect((await call("/v1/me", { headers: member.headers })).status).toBe(200);
  });
});

describe("the web app's cookie session", () => {
  it("is an HttpOnly, Secure, SameSite __Host- cookie, with a CSRF token for changes", async () => {
    const member = await signUp();
    const res = await call("/v1/auth/login", { json: { email: member.email, password: member.password, client: "web" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { csrfToken: string; token?: string };
    expect(body.token).toBeUndefined();
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^__Host-marquee_session=[A-Za-z0-9_-]{43};/);
    for (const attribute of ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"]) expect(setCookie).toContain(attribute);
    expect(setCookie).not.toContain("Domain=");
    const cookie = setCookie.split(";")[0]!;

    expect((await call("/v1/me", { headers: { Cookie: cookie } })).status).toBe(200);
    const created = await call("/v1/profiles", { json: { name: "Guest" }, headers: { Cookie: cookie, "X-CSRF-Token": body.csrfToken } });
    expect(created.status).toBe(201);

    const out = await call("/v1/auth/logout", { method: "POST", headers: { Cookie: cookie, "X-CSRF-Token": body.csrfToken } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/__Host-marquee_session=;.*Max-Age=0/);
    expect((await call("/v1/me", { headers: { Cookie: cookie } })).status).toBe(401);
  });
});

describe("GET /v1/plans through /v1/me", () => {
  it("shows no plan until one is chosen", async () => {
    const member = await signUp();
    const me = (await (await call("/v1/me", { headers: member.headers })).json()) as { plan: unknown };
    expect(me.plan).toBeNull();
  });
});
