// Bad input never makes a page a 500: unknown paths and titles are 404 pages for browsers
// (API clients keep the JSON error), odd queries and malformed form posts are answered
// in the page.
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

describe("unknown pages", () => {
  it("are the 404 page in the site's layout for a browser, signed in or out", async () => {
    for (const who of [null, member]) {
      for (const path of ["/nope", "/title/", "/title/first-light/extra", "/watchlist", "/%E2%98%83"]) {
        const res = await page(path, who);
        expect(res.status, path).toBe(404);
        expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
        expectSecurityHeaders(res);
        const html = await res.text();
        expect(html).toContain("We couldn&#39;t find that page");
        expect(html).toContain('<a class="skip-link" href="#main">');
        expectNoInlineCode(html);
        if (who) expect(html).toContain(`content="${member.csrfToken}"`);
      }
    }
  });

  it("stay JSON errors for the API and for clients that do not ask for HTML", async () => {
    const api = await page("/v1/nothing-here");
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const plain = await page("/nope", null, { headers: { accept: "application/json" } });
    expect(plain.status).toBe(404);
    expect(plain.headers.get("content-type")).toMatch(/^application\/json/);
    const post = await page("/nope", null, { method: "POST" });
    expect(post.headers.get("content-type")).toMatch(/^application\/json/);
  });
});

describe("odd input to pages", () => {
  it("searches with anything a person can type, never failing", async () => {
    for (const q of ["x".repeat(5000), '"*()^:-', "NEAR(a b)", "' OR 1=1 --", "\u0000", "é", "%", " "]) {
      const res = await page(`/search?q=${encodeURIComponent(q)}`, member);
      expect(res.status, q.slice(0, 20)).toBe(200);
      expectNoInlineCode(await res.text());
    }
    const repeated = await page("/search?q=a&q=b", member);
    expect(repeated.status).toBe(200);
  });

  it("never reflects markup from the address", async () => {
    const html = await (await page(`/search?q=${encodeURIComponent("<img src=x onerror=alert(1)>")}`, member)).text();
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    const home = await (await page(`/?checkout=${encodeURIComponent("<script>")}`, member)).text();
    expect(home).not.toContain("<script>");
  });

  it("answers malformed form posts in the form, not with a 500", async () => {
    const bodies: [string, BodyInit][] = [
      ["application/x-www-form-urlencoded", "email=&password="],
      ["application/x-www-form-urlencoded", "%%%"],
      ["application/json", '{"email":"a@b.c","password":"x"}'],
      ["multipart/form-data; boundary=nope", "garbage"],
      ["text/plain", "hello"],
    ];
    for (const [type, body] of bodies) {
      for (const path of ["/login", "/signup"]) {
        const res = await page(path, null, { method: "POST", body, headers: { "content-type": type, origin: "https://marquee.test" } });
        expect(res.status, `${path} ${type}`).toBe(400);
        const html = await res.text();
        expect(html).toMatch(/role="alert" id="(login|signup)-error">Enter a valid email address and a password\./);
      }
    }
    const profile = await page("/profiles", member, {
      method: "POST",
      body: new URLSearchParams({ name: "", pin: "12", csrf: member.csrfToken }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://marquee.test" },
    });
    expect(profile.status).toBe(400);
    expect(await profile.text()).toMatch(/role="alert" id="new-profile-error">[^<]+/);
  });
});
