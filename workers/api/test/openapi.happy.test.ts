import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /v1/openapi.json", () => {
  it("documents the routes from their zod schemas", async () => {
    const res = await exports.default.fetch("https://marquee.test/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { properties: object } }> }> }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.version).toBe("test");
    const health = doc.paths["/healthz"]?.get?.responses["200"]?.content["application/json"]?.schema;
    expect(Object.keys(health?.properties ?? {})).toEqual(["ok", "service", "version", "chaos"]);
  });
});
