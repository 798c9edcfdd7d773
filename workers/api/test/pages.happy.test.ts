import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { seedCatalog } from "../../../tools/seed/demo-catalog.ts";
import { smallCatalog, tinyAsset } from "./fixtures.ts";

describe("GET /", () => {
  it("says how to seed when the catalog is empty", async () => {
    const res = await exports.default.fetch("https://marquee.test/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("No titles yet");
  });

  it("renders the catalog, escaping what titles contain", async () => {
    await seedCatalog(env.DB, smallCatalog, [(await tinyAsset("asset-one")).index], new Date());
    const res = await exports.default.fetch("https://marquee.test/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("<h3>First Light</h3>");
    expect(html).toContain("2025 · TV-14 · Series");
    expect(html).toContain("Again, &lt;faster&gt;.");
    // The page links the content-hashed web build.
    expect(html).toMatch(/href="\/assets\/app-css-[A-Z0-9]+\.css"/);
  });
});
