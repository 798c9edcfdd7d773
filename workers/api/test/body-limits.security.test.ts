// Every route that takes a body has a limit fitted to it and answers 413 (the standard
// body) without reading past it: every route the OpenAPI document lists with a request
// body, at its documented limit, with and without a Content-Length; every other
// state-changing route under the api's default; the webhook and the pages' forms.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { DEFAULT_BODY_LIMIT, KB, MB } from "../body-limits.ts";
import { createApp } from "../app.ts";
import { ADMIN } from "./admin-client.ts";
import { memberOn, seedPlayableCatalog } from "./playback-client.ts";

await seedPlayableCatalog();
const m = await memberOn("premium");

type Operation = { requestBody?: { description?: string; content: Record<string, unknown> } };
const doc = (await (await exports.default.fetch("https://marquee.test/v1/openapi.json")).json()) as { paths: Record<string, Record<string, Operation>> };

/** Path parameters filled with ids of the right shape, so only the body is at issue. */
const sample: Record<string, string> = {
  id: m.profileId,
  titleId: "first-light",
  assetId: "limits-asset",
  path: "240p%2F1.m4s",
  number: "1",
  season: "1",
  liveId: "live-000000000000000000000000",
  rendition: "720p",
  file: "0.m4s",
};
const urlOf = (path: string) => `https://marquee.test${path.replace(/\{(\w+)\}/g, (_, name: string) => sample[name] ?? "x")}`;
const headersFor = (path: string) => (path.startsWith("/v1/admin") ? ADMIN : m.headers);

/** "JSON, at most 4 KB" → 4096: the limit as the document states it (the last "at most" of a streamed body's description). */
function documentedLimit(description: string | undefined): number {
  const match = /at most (\d+) (KB|MB)$/.exec(description ?? "");
  if (!match) throw new Error(`no limit in ${JSON.stringify(description)}`);
  return Number(match[1]) * (match[2] === "MB" ? MB : KB);
}

/** A body of `bytes` bytes with no Content-Length, counting how much of it is ever read. */
function countedStream(bytes: number) {
  const chunk = new Uint8Array(16 * KB).fill(0x20);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
      sent += part.length;
      controller.enqueue(part);
    },
  }, { highWaterMark: 0 });
  return { stream, read: () => sent };
}

/** A body that claims `bytes` in its Content-Length and holds none of them yet: only a reader would notice. */
function claimedLength(bytes: number) {
  const { readable, writable } = new FixedLengthStream(bytes);
  void writable.getWriter().closed.catch(() => undefined);
  return readable;
}

async function expectTooLarge(res: Response, what: string) {
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBe(413);
  expect(errorBodySchema.parse(JSON.parse(text)).error.code).toBe("PAYLOAD_TOO_LARGE");
}

const send = (method: string, path: string, body: BodyInit, type = "application/json") =>
  exports.default.fetch(urlOf(path), { method: method.toUpperCase(), headers: { ...headersFor(path), "content-type": type }, body });

const declared = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops)
    .filter(([, op]) => op.requestBody)
    .map(([method, op]) => ({
      path,
      method,
      limit: documentedLimit(op.requestBody!.description),
      type: Object.keys(op.requestBody!.content)[0]!,
      chunked: op.requestBody!.description?.includes("chunked") ?? false,
    })),
);

describe("routes with a documented body", () => {
  it("are many, and every one states a limit", () => {
    expect(declared.length).toBeGreaterThanOrEqual(20);
  });

  it.each(declared.map((r) => [`${r.method.toUpperCase()} ${r.path} (${r.limit / KB} KB)`, r] as const))("%s: one byte over is a 413, read no further than the limit", async (_, route) => {
    const streamed = route.type !== "application/json";
    if (route.chunked) {
      // Read by the route itself after it knows the sender (live ingest: ffmpeg sends chunked):
      // a length over the limit is refused unread; a chunked body from nobody is refused unread.
      await expectTooLarge(await send(route.method, route.path, claimedLength(route.limit + 1), route.type), "declared length over the limit");
      const body = countedStream(route.limit + 1 + 64 * KB);
      const res = await send(route.method, route.path, body.stream, route.type);
      expect([400, 401]).toContain(res.status);
      await res.body?.cancel();
      expect(body.read()).toBeLessThanOrEqual(32 * KB);
      return;
    }
    if (streamed) {
      // Streamed bodies must say their length; one over the limit is refused unread, one without a length too.
      await expectTooLarge(await send(route.method, route.path, claimedLength(route.limit + 1), route.type), "declared length over the limit");
      const res = await send(route.method, route.path, countedStream(1024).stream, route.type);
      expect(res.status).toBe(411);
      expect(errorBodySchema.parse(await res.json()).error.code).toBe("LENGTH_REQUIRED");
      return;
    }
    await expectTooLarge(await send(route.method, route.path, claimedLength(30 * MB)), "a 30 MB Content-Length");
    const body = countedStream(route.limit + 1 + 64 * KB);
    await expectTooLarge(await send(route.method, route.path, body.stream), "a body without a length");
    expect(body.read()).toBeLessThanOrEqual(route.limit + 32 * KB);
  });
});

describe("routes without a documented body", () => {
  const app = createApp();
  const undocumented = app.routes
    .filter((r) => ["POST", "PUT", "PATCH", "DELETE"].includes(r.method) && r.path.startsWith("/v1/"))
    .map((r) => ({ method: r.method, path: r.path.replace(/:(\w+)/g, "{$1}") }))
    .filter((r, i, all) => all.findIndex((o) => o.method === r.method && o.path === r.path) === i)
    .filter((r) => !declared.some((d) => d.method.toUpperCase() === r.method && d.path === r.path) && r.path !== "/v1/billing/webhook");

  it.each(undocumented.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: a body over the default limit is a 413, read no further", async (_, route) => {
    const body = countedStream(4 * MB);
    await expectTooLarge(await send(route.method, route.path, body.stream), "a 4 MB body");
    expect(body.read()).toBeLessThanOrEqual(DEFAULT_BODY_LIMIT + 32 * KB);
  });

  it("include the member routes that take none (heartbeat stops, sign-out, My List)", () => {
    expect(undocumented.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(["POST /v1/auth/logout", "DELETE /v1/playback/sessions/{id}", "PUT /v1/profiles/{id}/list/{titleId}"]));
  });
});

describe("the billing webhook", () => {
  it("refuses a body over 256 KB before computing any signature over it", async () => {
    const body = countedStream(30 * MB);
    const res = await exports.default.fetch("https://marquee.test/v1/billing/webhook", { method: "POST", headers: { "stripe-signature": "t=1,v1=00" }, body: body.stream });
    await expectTooLarge(res, "webhook");
    expect(body.read()).toBeLessThanOrEqual(256 * KB + 32 * KB);
    await expectTooLarge(await exports.default.fetch("https://marquee.test/v1/billing/webhook", { method: "POST", headers: { "stripe-signature": "t=1,v1=00" }, body: claimedLength(30 * MB) }), "webhook with a length");
  });
});

describe("the pages' forms", () => {
  it.each(["/login", "/signup", "/logout", "/profiles"])("POST %s over 4 KB is a 413", async (path) => {
    const body = countedStream(1 * MB);
    const res = await exports.default.fetch(`https://marquee.test${path}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://marquee.test" }, body: body.stream });
    expect(res.status).toBe(413);
    expect(body.read()).toBeLessThanOrEqual(4 * KB + 32 * KB);
  });
});

describe("a 30 MB sign-in", () => {
  it("is refused from its Content-Length alone, and changes nothing", async () => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions").first<number>("n");
    await expectTooLarge(await exports.default.fetch("https://marquee.test/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: claimedLength(30 * MB) }), "login");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions").first<number>("n")).toBe(before);
  });
});
