// The standard error body for every kind of bad request: through the real Worker, and
// through a router made by the same factory every api route uses.
import { createRoute, z } from "@hono/zod-openapi";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ApiError, errorBodySchema } from "../../../lib/errors.ts";
import { installBase } from "../../../lib/http.ts";
import { jsonBody, KB } from "../body-limits.ts";
import { createRouter } from "../router.ts";

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

describe("the real api Worker", () => {
  it("answers an unknown route with 404 NOT_FOUND", async () => {
    await expectError(await exports.default.fetch("https://marquee.test/v1/nothing-here"), 404, "NOT_FOUND");
  });

  it("answers a wrong method with 405 METHOD_NOT_ALLOWED and an Allow header", async () => {
    const res = await exports.default.fetch("https://marquee.test/healthz", { method: "DELETE" });
    await expectError(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers a body sent to a route that takes none with 405, not 500", async () => {
    const res = await exports.default.fetch("https://marquee.test/v1/openapi.json", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    await expectError(res, 405, "METHOD_NOT_ALLOWED");
  });
});

// A router like every api route's, with one JSON endpoint and one that fails unexpectedly.
function probeApp() {
  const app = installBase(createRouter());
  const create = createRoute({
    method: "post",
    path: "/v1/probe",
    request: { body: jsonBody(z.object({ name: z.string().min(1), count: z.number().int().positive() }), 1 * KB) },
    responses: { 201: { description: "created", content: { "application/json": { schema: z.object({ name: z.string() }) } } } },
  });
  app.openapi(create, (c) => c.json({ name: c.req.valid("json").name }, 201));
  app.get("/v1/conflict", () => {
    throw new ApiError("CONFLICT", "Already there", { details: { id: "x" } });
  });
  app.get("/v1/boom", () => {
    throw new Error("database password is hunter2");
  });
  return app;
}

const post = (body: string, contentType = "application/json") =>
  probeApp().request("/v1/probe", { method: "POST", headers: { "content-type": contentType }, body }, env);

describe("a route built by createRouter()", () => {
  it("must declare its body's size limit: a body route without one is refused when it is registered", () => {
    const route = createRoute({
      method: "post",
      path: "/v1/unlimited",
      request: { body: { required: true, content: { "application/json": { schema: z.object({}) } } } },
      responses: { 204: { description: "done" } },
    });
    expect(() => createRouter().openapi(route, (c) => c.body(null, 204))).toThrow(/POST \/v1\/unlimited: declare its body with jsonBody\(\) or streamedBody\(\)/);
  });

  it("answers a body over its limit with 413 before reading it", async () => {
    const res = await post(JSON.stringify({ name: "x".repeat(2 * 1024), count: 1 }));
    expect(res.status).toBe(413);
    expect(errorBodySchema.parse(await res.json()).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("accepts a valid body", async () => {
    const res = await post(JSON.stringify({ name: "a", count: 1 }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: "a" });
  });

  it("answers malformed JSON with 400 BAD_REQUEST", async () => {
    await expectError(await post("{not json"), 400, "BAD_REQUEST");
  });

  it("answers an empty body with 400", async () => {
    const res = await post("");
    expect(res.status).toBe(400);
    errorBodySchema.parse(await res.json());
  });

  it("answers a body of the wrong shape with 400 VALIDATION_FAILED naming each field", async () => {
    const body = await expectError(await post(JSON.stringify({ name: "", count: -2 })), 400, "VALIDATION_FAILED");
    const paths = (body.error.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(["count", "name"]);
  });

  it("answers a body that is not JSON at all with a 4xx", async () => {
    const res = await post("name=a", "application/x-www-form-urlencoded");
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    errorBodySchema.parse(await res.json());
  });

  it("renders a thrown ApiError with its code, status and details", async () => {
    const res = await probeApp().request("/v1/conflict", {}, env);
    const body = await expectError(res, 409, "CONFLICT");
    expect(body.error.details).toEqual({ id: "x" });
  });

  it("renders an unexpected error as 500 INTERNAL without leaking its message, and logs it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await probeApp().request("/v1/boom", {}, env);
    const body = await expectError(res, 500, "INTERNAL");
    expect(JSON.stringify(body)).not.toContain("hunter2");
    const entry = JSON.parse(String(logged.mock.calls[0]?.[0]));
    expect(entry).toMatchObject({ level: "error", event: "unhandled_error", requestId: body.error.requestId, path: "/v1/boom" });
    expect(entry.stack).toContain("hunter2");
    logged.mockRestore();
  });
});
