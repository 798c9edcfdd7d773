// The pages' security: the headers on every answer (pages, redirects, notices, 404s), a
// CSP the pages never need to weaken (no inline script or style anywhere), the sign-in
// guards and redirects, and form posts that refuse other sites.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { seedCatalog } from "../../../tools/seed/demo-catalog.ts";
import { contentSecurityPolicy, mediaOriginOf } from "../pages/security-headers.ts";
import { smallCatalog, tinyAsset } from "./fixtures.ts";
import { api, expectNoInlineCode, expectSecurityHeaders, page, webMember } from "./pages-client.ts";

beforeAll(async () => {
  await seedCatalog(env.DB, smallCatalog, [(await tinyAsset("asset-one")).index], new Date());
});

const MEMBER_PAGES = ["/plans", "/profiles", "/title/first-light", "/title/second-wind", "/search", "/search?q=light", "/account"];

describe("security headers", () => {
  it("are on every page, signed out and in, and on redirects and 404 pages", async () => {
    const member = await webMember({ plan: "premium", enter: true });
    const answers: Response[] = [];
    for (const path of ["/", "/signup", "/login", "/title/nope", "/no-such-page", ...MEMBER_PAGES]) {
      answers.push(await page(path), await page(path, member));
    }
    expect(answers.map((r) => r.status)).toEqual(expect.arrayContaining([200, 303, 404]));
    for (const res of answers) expectSecurityHeaders(res);
  });

  it("build a CSP that adds the media origin only where video and its requests come from", () => {
    const local = contentSecurityPolicy(mediaOriginOf(""));
    expect(local).toContain("media-src 'self' blob:;");
    expect(local).toContain("connect-src 'self';");
    const remote = contentSecurityPolicy(mediaOriginOf("https://media.example.com/some/path"));
    expect(remote).toContain("media-src 'self' blob: https://media.example.com;");
    expect(remote).toContain("connect-src 'self' https://media.example.com;");
    expect(remote).toContain("img-src 'self' data: blob: https://media.example.com;");
    expect(remote).toContain("worker-src 'self' blob:;");
    expect(remote).toContain("form-action 'self'");
    expect(remote).toContain("base-uri 'self'");
    for (const csp of [local, remote]) expect(csp).not.toContain("unsafe");
    // Nothing odd gets into the policy.
    expect(mediaOriginOf("javascript:alert(1)")).toBeNull();
    expect(mediaOriginOf("not a url")).toBeNull();
  });

  it("leave the JSON API's answers alone", async () => {
    const res = await page("/v1/titles");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBeNull();
  });
});

describe("no inline script or style in any rendered page", () => {
  it("holds for every page a member or a visitor can reach", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    const noPlan = await webMember();
    const pages: [string, Awaited<ReturnType<typeof webMember>> | null][] = [
      ["/", null],
      ["/signup", null],
      ["/login", null],
      ["/no-such-page", null],
      ["/", member],
      ["/title/nope", member],
      ["/plans", noPlan],
      ["/profiles", noPlan],
      ...MEMBER_PAGES.map((p): [string, typeof member] => [p, member]),
    ];
    for (const [path, who] of pages) {
      const res = await page(path, who);
      expect(res.status, path).not.toBe(303);
      const html = await res.text();
      expect(html, path).toContain("<html");
      expectNoInlineCode(html);
    }
  });
});

describe("who may see which page", () => {
  it("sends a signed-out visitor to /login from every member page, and shows them the landing at /", async () => {
    for (const path of MEMBER_PAGES) {
      const res = await page(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location"), path).toBe("/login");
    }
    const landing = await page("/");
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain('href="/signup"');
  });

  it("sends a member without a plan to /plans, and one who has not entered a profile to /profiles", async () => {
    const noPlan = await webMember();
    const home = await page("/", noPlan);
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/plans");
    expect((await page("/plans", noPlan)).status).toBe(200);
    expect((await page("/profiles", noPlan)).status).toBe(200);

    const noProfile = await webMember({ plan: "basic" });
    for (const path of ["/", "/title/first-light", "/search"]) {
      const res = await page(path, noProfile);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location"), path).toBe("/profiles");
    }
    // After Stripe Checkout, before its webhook has arrived: a note on /plans, not a bare redirect.
    const pending = await page("/?checkout=success", noPlan);
    expect(pending.headers.get("location")).toBe("/plans?checkout=pending");
    expect(await (await page("/plans?checkout=pending", noPlan)).text()).toContain("being confirmed");
  });

  it("sends a signed-in member away from the sign-in forms", async () => {
    const member = await webMember();
    for (const path of ["/login", "/signup"]) {
      const res = await page(path, member);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/");
    }
  });

  it("goes back to the page that asked for sign-in, only ever on this site", async () => {
    const form = async (next: string) => /<form id="login-form"[^>]*data-next="([^"]*)"/.exec(await (await page(`/login?next=${encodeURIComponent(next)}`)).text())?.[1];
    expect(await form("/watch/first-light?episode=e1")).toBe("/watch/first-light?episode=e1");
    for (const evil of ["//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/ok\u0000"]) expect(await form(evil), evil).toBe("/");
    const member = await webMember();
    const signedIn = await page("/login?next=%2Fwatch%2Ffirst-light", member);
    expect(signedIn.headers.get("location")).toBe("/watch/first-light");
    const bounced = await page("/login?next=%2F%2Fevil.example", member);
    expect(bounced.headers.get("location")).toBe("/");
  });

  it("treats an ended session as signed out, and forgets its cookie", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    expect((await api(member, "POST", "/v1/auth/logout")).status).toBe(204);
    const res = await page("/", member);
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/__Host-marquee_session=;/);
    expect(await res.text()).not.toContain("csrf-token");
    expect((await page("/account", member)).headers.get("location")).toBe("/login");
    // A made-up cookie is no better.
    const forged = await page("/account", { cookie: "__Host-marquee_session=forged" });
    expect(forged.headers.get("location")).toBe("/login");
  });

  it("keeps a kids profile out of the account's controls", async () => {
    const member = await webMember({ plan: "basic" });
    const kid = (await (await api(member, "POST", "/v1/profiles", { name: "Kid", isKids: true })).json()) as { id: string };
    expect((await api(member, "POST", `/v1/profiles/${kid.id}/enter`, {})).status).toBe(200);
    const account = await (await page("/account", member)).text();
    expect(account).not.toContain("sign-out-everywhere");
    expect(account).toContain("managed from an adult profile");
    const profiles = await (await page("/profiles", member)).text();
    expect(profiles).not.toContain('id="new-profile"');
    const plans = await (await page("/plans", member)).text();
    expect(plans).toMatch(/data-plan="premium"[^>]* disabled=""/);
  });
});

describe("the pages' form posts (no script)", () => {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}, cookie?: string) =>
    page(path, cookie ? { cookie } : null, {
      method: "POST",
      body: form(fields),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://marquee.test", ...headers },
    });

  it("signs up and in with the session cookie, and shows what went wrong in the form's alert", async () => {
    const email = `form-${Date.now()}@example.com`;
    const signup = await post("/signup", { email, password: "a long and unusual passphrase" });
    expect(signup.status).toBe(303);
    expect(signup.headers.get("location")).toBe("/");
    const cookie = /(__Host-marquee_session=[^;]+)/.exec(signup.headers.get("set-cookie") ?? "")?.[1];
    expect(cookie).toBeDefined();
    expect(signup.headers.get("set-cookie")).toMatch(/HttpOnly/i);
    expect((await page("/", { cookie: cookie! })).headers.get("location")).toBe("/plans");

    const wrong = await post("/login", { email, password: "not the password" });
    expect(wrong.status).toBe(401);
    expectSecurityHeaders(wrong);
    expect(await wrong.text()).toMatch(/role="alert" id="login-error">The email or password is incorrect\./);
    const weak = await post("/signup", { email: `weak-${Date.now()}@example.com`, password: "short" });
    expect(weak.status).toBe(400);
    expect(await weak.text()).toContain("Use at least 8 characters.");
    const taken = await post("/signup", { email, password: "a long and unusual passphrase" });
    expect(taken.status).toBe(409);
    const login = await post("/login", { email, password: "a long and unusual passphrase", next: "/title/first-light" });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/title/first-light");
    expect(login.headers.get("set-cookie")).toContain("__Host-marquee_session=");
  });

  it("refuses a sign-in posted from another site", async () => {
    const res = await post("/signup", { email: `cross-${Date.now()}@example.com`, password: "a long and unusual passphrase" }, { origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("signs out and adds a profile only with the page's CSRF token", async () => {
    const member = await webMember({ plan: "basic" });
    const noToken = await post("/profiles", { name: "Sneaky" }, {}, member.cookie);
    expect(noToken.status).toBe(403);
    const added = await post("/profiles", { name: "Grandma", isKids: "true", pin: "1234", csrf: member.csrfToken }, {}, member.cookie);
    expect(added.status).toBe(303);
    const listed = (await (await api(member, "GET", "/v1/profiles")).json()) as { profiles: { name: string; isKids: boolean; hasPin: boolean }[] };
    expect(listed.profiles).toEqual(expect.arrayContaining([expect.objectContaining({ name: "Grandma", isKids: true, hasPin: true })]));
    expect(listed.profiles.map((p) => p.name)).not.toContain("Sneaky");

    const forged = await post("/logout", { csrf: "forged" }, {}, member.cookie);
    expect(forged.status).toBe(303);
    expect((await page("/account", member)).status).toBe(200);
    const out = await post("/logout", { csrf: member.csrfToken }, {}, member.cookie);
    expect(out.status).toBe(303);
    expect((await page("/account", member)).headers.get("location")).toBe("/login");
  });
});
