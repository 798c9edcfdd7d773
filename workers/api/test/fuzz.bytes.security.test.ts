// Random bytes at every route of the api Worker (fast-check): each route the app registers
// (read from `createApp().routes`, middleware left out) with its path parameters naming
// things that exist, random bytes as the body under a typical or random content type, and
// sometimes another method. Nothing answers 500; a JSON route under /v1 that refuses does
// so in the standard error body; pages answer an HTML page, an error page or a redirect;
// and no table or R2 object changes.
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { z } from "zod";
import { errorBodySchema } from "../../../lib/errors.ts";
import { syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { createApp } from "../app.ts";
import { createSession, enterProfile } from "../auth/sessions.ts";
import { ADMIN, putJson } from "./admin-client.ts";
import { memberOn, seedPlayableCatalog } from "./playback-client.ts";
import { snapshot } from "./fuzz-kit.ts";

const RUNS = 1000;

await seedPlayableCatalog();
const m = await memberOn("premium");
// A signed-in browser that has picked its profile, so the member pages render instead of redirecting.
const web = await createSession(env.DB, m.accountId, "web", "Fuzzing browser", new Date());
await enterProfile(env.DB, web.sessionId, m.profileId);
const draft = await syntheticAsset("fuzz-bytes", { heights: [240], segments: 2, audio: false, extras: false });
{
  const res = await putJson("/v1/admin/assets/fuzz-bytes", draft.index);
  if (res.status !== 200) throw new Error(`draft index: ${res.status} ${await res.text()}`);
}

type Route = { method: string; path: string; group: Group; body: "required" | "optional" | "none" | "page"; schema?: z.ZodType };
type Group = "accounts" | "catalog" | "admin" | "member" | "pages";

/** Every route of the app, once per method and path, with its group and whether its OpenAPI definition needs a body. */
function routes(): Route[] {
  const app = createApp();
  type Def = Extract<(typeof app.openAPIRegistry.definitions)[number], { type: "route" }>["route"];
  const defs = new Map<string, Def>(
    app.openAPIRegistry.definitions.flatMap((d) => (d.type === "route" ? [[`${d.route.method.toUpperCase()} ${d.route.path.replace(/\{(\w+)\}/g, ":$1")}`, d.route] as const] : [])),
  );
  const out = new Map<string, Route>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue; // middleware
    const key = `${r.method} ${r.path}`;
    if (out.has(key)) continue;
    const def = defs.get(key);
    const tags = def?.tags ?? [];
    const group: Group = r.path.startsWith("/v1/admin/")
      ? "admin"
      : tags.some((t) => ["auth", "profiles", "billing"].includes(t))
        ? "accounts"
        : tags.includes("catalog") || r.path === "/healthz" || r.path === "/v1/openapi.json"
          ? "catalog"
          : r.path.startsWith("/v1/")
            ? "member"
            : "pages";
    const body = !def ? "page" : !def.request?.body ? "none" : def.request.body.required ? "required" : "optional";
    const schema = (def?.request?.body?.content as Record<string, { schema: z.ZodType }> | undefined)?.["application/json"]?.schema;
    out.set(key, { method: r.method, path: r.path, group, body, schema });
  }
  return [...out.values()];
}

const ALL_ROUTES = routes();
const registered = new Map(ALL_ROUTES.map((r) => [`${r.method} ${r.path}`, r]));

/** Path parameters naming what exists and is the caller's, so a request gets past the lookups to the body. */
function ownerParam(path: string, name: string): string {
  if (name === "assetId") return "fuzz-bytes";
  if (name === "path") return encodeURIComponent("240p/1.m4s");
  if (name === "number" || name === "season") return "1";
  if (name === "titleId") return "first-light";
  if (path.startsWith("/v1/admin/genres")) return "drama";
  if (path.startsWith("/v1/admin/titles")) return "second-wind";
  if (path.startsWith("/v1/profiles")) return m.profileId;
  if (path.startsWith("/v1/playback/sessions")) return "pbs_0123456789abcdef0123";
  if (path.startsWith("/v1/auth/sessions")) return "0".repeat(64);
  return "first-light";
}

/** Parameters naming nothing, for a write that needs no body: with real ones it would simply succeed. */
function unknownParam(name: string): string {
  return name === "number" || name === "season" ? "999" : name === "path" ? "nothing" : "zz-nobody";
}

/**
 * A write that needs no body (signing out, deleting, adding to My List, entering a
 * profile, publishing): random bytes cannot make it invalid, so it goes to things that do
 * not exist, or without credentials when it has no parameters.
 */
const writesWithoutBody = (method: string, route: Route | undefined) => route !== undefined && !["GET", "HEAD", "OPTIONS"].includes(method) && route.body !== "required" && route.body !== "page";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=fuzzboundary",
  "multipart/form-data",
  "application/octet-stream",
  "application/x-ndjson",
  "text/plain",
  null,
] as const;

/** Random bytes, or bytes that look almost like what a route reads: JSON, a form, a multipart body, NDJSON. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.uint8Array({ maxLength: 0 }),
  fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(`{"${s}`)),
  fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(`email=${s}&password=${s}&csrf=${s}`)),
  fc.uint8Array({ maxLength: 200 }).map((b) => new Uint8Array([...new TextEncoder().encode('--fuzzboundary\r\nContent-Disposition: form-data; name="email"\r\n\r\n'), ...b, ...new TextEncoder().encode("\r\n--fuzzboundary--")])),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }).map((vs) => new TextEncoder().encode(vs.map((v) => JSON.stringify(v)).join("\n"))),
);

/** Every table of the database (row count and a hash of the rows), and every object in R2. */
async function writes() {
  const tables = (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' AND name NOT LIKE '%_data' AND name NOT LIKE '%_idx' AND name NOT LIKE '%_docsize' AND name NOT LIKE '%_config' AND name NOT LIKE '%_content' ORDER BY name").all<{ name: string }>()).results.map((r) => r.name);
  return snapshot(tables, { r2: true });
}

/** What the route's JSON validator gets from a request (Hono's rules), or a value no schema takes. */
function validated(contentType: string | null, body: Uint8Array): unknown {
  const refused = Symbol("not read");
  if (!contentType) return body.length === 0 ? {} : refused;
  if (!/^application\/([\w.-]+\+)?json$/i.test(contentType.split(";")[0]!.trim())) return refused;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return refused;
  }
}

const seen = new Map<number, number>();
const routesHit = new Set<string>();

describe("the routes fuzzed", () => {
  it("are every route of the app, each in one of the groups", () => {
    // Read from the app itself: a new route is fuzzed without anyone having to remember this file.
    expect(ALL_ROUTES.length).toBeGreaterThanOrEqual(65);
    for (const group of ["accounts", "catalog", "admin", "member", "pages"] as const) expect(ALL_ROUTES.some((r) => r.group === group), group).toBe(true);
  });
});

describe("random bytes at every route: never a 500, the standard error body under /v1, nothing written", () => {
  beforeEach(() => {
    seen.clear();
    routesHit.clear();
  });
  afterEach(() => {
    expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);
    expect(seen.size, JSON.stringify([...seen])).toBeGreaterThanOrEqual(2);
  });

  for (const group of ["accounts", "catalog", "admin", "member", "pages"] as const) {
    const inGroup = ALL_ROUTES.filter((r) => r.group === group);

    it(`${group}: ${inGroup.length} routes`, async () => {
      const before = await writes();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...inGroup),
          fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
          fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }),
          bytes,
          fc.constantFrom("owner", "owner", "owner", "none", "junk"),
          async (route, otherMethod, contentType, body, who) => {
            const method = otherMethod ?? route.method;
            const target = registered.get(`${method} ${route.path}`);
            const bodyless = writesWithoutBody(method, target);
            const path = route.path.replace(/:(\w+)/g, (_, name: string) => (bodyless ? unknownParam(name) : ownerParam(route.path, name)));
            const credentials: Record<string, string> =
              who === "none" || (bodyless && !route.path.includes(":"))
                ? {}
                : who === "junk"
                  ? { Authorization: "Bearer not-a-session-at-all", Cookie: "__Host-marquee_session=not-a-session" }
                  : route.group === "admin"
                    ? ADMIN
                    : route.group === "pages"
                      ? { Cookie: `__Host-marquee_session=${web.token}` }
                      : m.headers;
            const hasBody = method !== "GET" && method !== "HEAD";
            // Bytes that happen to be a valid JSON body for the route are not junk: skip them. As the
            // validator reads it: a JSON media type's body as JSON, and no content type with no body as `{}`
            // (a valid profile change, one that changes nothing).
            fc.pre(!(hasBody && target?.schema && target.schema.safeParse(validated(contentType, body)).success));
            const headers: Record<string, string> = { ...credentials, ...(contentType && hasBody ? { "content-type": contentType } : {}) };
            const res = await exports.default.fetch(`https://marquee.test${path}`, { method, headers, body: hasBody ? body : undefined, redirect: "manual" });
            const text = method === "HEAD" ? "" : await res.text();
            seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
            routesHit.add(`${route.method} ${route.path}`);
            const said = `${method} ${path} (${route.method} ${route.path}) as ${who}, ${contentType}, ${body.length} bytes -> ${res.status} ${text.slice(0, 200)}`;
            expect(res.status, said).toBeLessThan(500);
            if (path.startsWith("/v1/") && res.status >= 400 && method !== "HEAD") {
              let answer: unknown;
              try { answer = JSON.parse(text); } catch { answer = undefined; }
              expect(errorBodySchema.safeParse(answer).success, `not the standard error body: ${said}`).toBe(true);
            }
            // Random bytes never make a write succeed. (The NDJSON import answers a report: 200 with nothing imported.)
            if (method === "POST" && route.path === "/v1/admin/catalog/import" && res.status === 200) expect((JSON.parse(text) as { imported: number }).imported, said).toBe(0);
            else if (path.startsWith("/v1/") && hasBody && method !== "OPTIONS") expect(res.status, said).toBeGreaterThanOrEqual(400);
          },
        ),
        { numRuns: RUNS },
      );
      expect(await writes()).toEqual(before);
      // Every route of the group got some of the bytes.
      expect(inGroup.filter((r) => !routesHit.has(`${r.method} ${r.path}`)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    }, 180_000);
  }
});
