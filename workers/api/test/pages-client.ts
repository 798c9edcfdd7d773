// The web app from tests: a web sign-up (the __Host- session cookie and its CSRF token),
// a plan and an entered profile, pages fetched as a browser would, and the checks every
// rendered page must pass (no inline script or style for the CSP to block).
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { PlanId } from "../../../lib/plans.ts";
import { activateDevPlan } from "../billing/subscriptions.ts";
import { newClientAddress } from "./auth-client.ts";

let counter = 0;

export type WebMember = { email: string; password: string; accountId: string; cookie: string; csrfToken: string; profileId: string };

/** A new account signed in on the web (client "web"), optionally on a plan and inside its first profile. */
export async function webMember(options: { plan?: PlanId | null; enter?: boolean } = {}): Promise<WebMember> {
  const email = `web${Date.now()}-${++counter}@example.com`;
  const password = "correct horse battery staple";
  const res = await exports.default.fetch("https://marquee.test/v1/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json", "CF-Connecting-IP": newClientAddress() },
    body: JSON.stringify({ email, password, client: "web" }),
  });
  if (res.status !== 201) throw new Error(`web signup: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accountId: string; csrfToken: string };
  const setCookie = res.headers.get("set-cookie") ?? "";
  const value = /__Host-marquee_session=([^;]+)/.exec(setCookie)?.[1];
  if (!value) throw new Error(`web signup set no session cookie: ${setCookie}`);
  const cookie = `__Host-marquee_session=${value}`;
  // Plans come from the dev provider, which refuses non-local hosts such as marquee.test: activate directly.
  if (options.plan) await activateDevPlan(env.DB, body.accountId, options.plan, new Date());
  const me = (await (await exports.default.fetch("https://marquee.test/v1/me", { headers: { cookie } })).json()) as { profiles: { id: string }[] };
  const profileId = me.profiles[0]!.id;
  const member = { email, password, accountId: body.accountId, cookie, csrfToken: body.csrfToken, profileId };
  if (options.enter) await enter(member, profileId);
  return member;
}

export async function enter(member: WebMember, profileId: string, pin?: string): Promise<void> {
  const res = await api(member, "POST", `/v1/profiles/${profileId}/enter`, pin ? { pin } : {});
  if (res.status !== 200) throw new Error(`enter ${profileId}: ${res.status} ${await res.text()}`);
}

/** A JSON API call as the web app's scripts make it: the cookie, and the CSRF token on writes. */
export function api(member: WebMember, method: string, path: string, json?: unknown) {
  return exports.default.fetch(`https://marquee.test${path}`, {
    method,
    headers: { cookie: member.cookie, "x-csrf-token": member.csrfToken, ...(json === undefined ? {} : { "content-type": "application/json" }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
}

/** A page as a browser asks for it (redirects not followed). */
export function page(path: string, member?: Pick<WebMember, "cookie"> | null, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return exports.default.fetch(`https://marquee.test${path}`, {
    redirect: "manual",
    ...init,
    headers: { accept: "text/html,application/xhtml+xml", ...(member ? { cookie: member.cookie } : {}), ...init.headers },
  });
}

/** What the CSP would block: a script without src (other than JSON data), an inline style, an event-handler attribute. */
export function expectNoInlineCode(html: string): void {
  const inlineScripts = [...html.matchAll(/<script\b([^>]*)>/gi)].filter(([, attrs]) => !/\ssrc="/.test(attrs!) && !/\stype="application\/json"/.test(attrs!));
  expect(inlineScripts.map(([tag]) => tag)).toEqual([]);
  expect(html).not.toMatch(/\sstyle\s*=/i);
  expect(html).not.toMatch(/<style\b/i);
  expect(html).not.toMatch(/\son[a-z]+\s*=\s*["']/i);
  expect(html).not.toMatch(/href\s*=\s*["']\s*javascript:/i);
}

/** The security headers docs/web-app.md asks of every page. */
export function expectSecurityHeaders(res: Response): void {
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).not.toBe("");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).not.toContain("unsafe-eval");
  const directive = (name: string) => csp.split(";").map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? "";
  expect(directive("default-src")).toBe("default-src 'self'");
  expect(directive("script-src")).toBe("script-src 'self'");
  expect(directive("style-src")).toBe("style-src 'self'");
  expect(directive("frame-ancestors")).toBe("frame-ancestors 'none'");
  expect(directive("media-src")).toContain("blob:");
  expect(directive("worker-src")).toContain("blob:");
  expect(directive("img-src")).toContain("blob:");
  expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d{7,}/);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
}
