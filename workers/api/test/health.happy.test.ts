import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthSchema } from "../../../lib/http.ts";

describe("GET /healthz", () => {
  it("answers 200 with the service name and build version", async () => {
    const res = await exports.default.fetch("https://marquee.test/healthz");
    expect(res.status).toBe(200);
    expect(healthSchema.parse(await res.json())).toEqual({ ok: true, service: "marquee-api", version: "test" });
  });

  it("answers HEAD like GET, without a body", async () => {
    const res = await exports.default.fetch("https://marquee.test/healthz", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("gives every response a request id, echoing a well-formed one from the client", async () => {
    const fresh = await exports.default.fetch("https://marquee.test/healthz");
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await exports.default.fetch("https://marquee.test/healthz", { headers: { "X-Request-Id": "trace-42" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-42");
  });
});

describe("GET /p/healthz (the media origin, forwarded over the service binding)", () => {
  it("is answered by the media Worker", async () => {
    const res = await exports.default.fetch("https://marquee.test/p/healthz");
    expect(res.status).toBe(200);
    expect(healthSchema.parse(await res.json()).service).toBe("marquee-media");
  });
});
