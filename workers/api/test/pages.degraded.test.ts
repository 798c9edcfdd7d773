// A catalog that cannot be read degrades the page; it never becomes an error page.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET / when D1 fails", () => {
  it("still answers 200, with a notice instead of the catalog", async () => {
    await env.DB.exec("DROP TABLE title_genres");
    const res = await exports.default.fetch("https://marquee.test/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("The catalog is unavailable right now");
  });
});
