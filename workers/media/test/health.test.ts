import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { healthSchema } from "../../../lib/http.ts";

describe("the media Worker", () => {
  it.each(["/healthz", "/p/healthz"])("answers GET %s with its service name and version", async (path) => {
    const res = await exports.default.fetch(`https://media.marquee.test${path}`);
    expect(res.status).toBe(200);
    expect(healthSchema.parse(await res.json())).toEqual({ ok: true, service: "marquee-media", version: "test" });
  });

  it("answers an unknown path with the standard 404 body", async () => {
    const res = await exports.default.fetch("https://media.marquee.test/nothing-here");
    expect(res.status).toBe(404);
    expect(errorBodySchema.parse(await res.json()).error.code).toBe("NOT_FOUND");
  });

  it("answers a wrong method with 405 and an Allow header", async () => {
    const res = await exports.default.fetch("https://media.marquee.test/healthz", { method: "PUT", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(errorBodySchema.parse(await res.json()).error.code).toBe("METHOD_NOT_ALLOWED");
  });
});
