// When D1 fails, pages degrade to a notice in the site's layout; none becomes a 500. Each
// step breaks a little more of this file's database, so the tests run in order.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { seedCatalog } from "../../../tools/seed/demo-catalog.ts";
import { smallCatalog, tinyAsset } from "./fixtures.ts";
import { expectNoInlineCode, expectSecurityHeaders, page, webMember, type WebMember } from "./pages-client.ts";

let member: WebMember;

beforeAll(async () => {
  await seedCatalog(env.DB, smallCatalog, [(await tinyAsset("asset-one")).index], new Date());
  member = await webMember({ plan: "basic", enter: true });
});

async function expectNotice(path: string, who: WebMember | null, status: number, text: string) {
  const res = await page(path, who);
  expect(res.status, path).toBe(status);
  expectSecurityHeaders(res);
  const html = await res.text();
  expect(html, path).toContain(text);
  expect(html).toContain('<header class="site-header">');
  expectNoInlineCode(html);
}

describe("pages when D1 fails", () => {
  it("home shows a notice instead of rows, and a title's page says it is unavailable", async () => {
    await env.DB.exec("DROP TABLE title_genres");
    await expectNotice("/", member, 200, "Your rows are unavailable right now");
    await expectNotice("/title/first-light", member, 503, "Marquee is having trouble right now");
    // The landing does not need genres: still the poster wall.
    const landing = await (await page("/")).text();
    expect(landing).toContain('src="/artwork/first-light.svg"');
  });

  it("search says it is unavailable", async () => {
    await env.DB.exec("DROP TABLE titles_fts");
    await expectNotice("/search?q=light", member, 200, "Search is unavailable right now");
  });

  it("the landing loses its poster wall, nothing else", async () => {
    // The search index's triggers would refuse the rename now that their table is gone.
    const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%titles%'").all<{ name: string }>();
    for (const { name } of results) await env.DB.exec(`DROP TRIGGER "${name}"`);
    await env.DB.exec("ALTER TABLE titles RENAME TO titles_gone");
    const res = await page("/");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('href="/signup"');
    expect(html).not.toContain("poster-wall");
  });

  it("a session that cannot be checked is a notice on every member page; signed-out pages still work", async () => {
    await env.DB.exec("DROP TABLE subscriptions");
    for (const path of ["/", "/plans", "/profiles", "/title/first-light", "/search", "/account"]) {
      await expectNotice(path, member, 503, "Marquee is having trouble right now");
    }
    expect((await page("/login")).status).toBe(200);
    expect((await page("/")).status).toBe(200);
  });
});
