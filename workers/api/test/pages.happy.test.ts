// The web app's pages for a member signed in on the web: the landing, the home rows, a
// title's page, search, "Who's watching?", plans and the account, rendered as the
// contract in docs/web-app.md describes them.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { episodeId } from "../../../tools/seed/demo-catalog.ts";
import { api, enter, expectNoInlineCode, expectSecurityHeaders, page, webMember, type WebMember } from "./pages-client.ts";
import { seedPlayableCatalog } from "./playback-client.ts";
import { shardDbOf } from "./events-client.ts";

beforeAll(async () => {
  await seedPlayableCatalog();
});

/** Every match of a tag (opening tags only) whose attributes satisfy `test`. */
function tags(html: string, name: string, test: (attrs: string) => boolean = () => true): string[] {
  return [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, "g"))].map((m) => m[1]!).filter(test);
}

const attr = (attrs: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1];

async function progressOf(member: WebMember, titleId: string, positionSec: number, durationSec: number, episode: string | null = null) {
  const now = Date.now();
  await shardDbOf(member.profileId).prepare(
    "INSERT INTO watch_progress (profile_id, title_id, episode_id, position_sec, duration_sec, completed, event_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
  )
    .bind(member.profileId, titleId, episode, positionSec, durationSec, now, now)
    .run();
}

describe("the landing page (signed out)", () => {
  it("links to sign-up and sign-in, shows a wall of posters, and carries no session meta", async () => {
    const res = await page("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expectSecurityHeaders(res);
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain('href="/signup"');
    expect(html).toContain('href="/login"');
    expect(html).toContain('src="/artwork/first-light.svg"');
    // The R-rated title stays off the shop window.
    expect(html).not.toContain("late-night");
    expect(html).not.toContain('name="csrf-token"');
    expect(html).not.toContain('name="profile-id"');
    // The page links the content-hashed web build.
    expect(html).toMatch(/href="\/assets\/app-css-[A-Z0-9]+\.css"/);
    expect(html).toMatch(/<script type="module" src="\/assets\/app-js-[A-Z0-9]+\.js"><\/script>/);
    expectNoInlineCode(html);
  });

  it("serves the sign-up and sign-in forms", async () => {
    for (const [path, form] of [
      ["/signup", "signup-form"],
      ["/login", "login-form"],
    ] as const) {
      const res = await page(path);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain(`<form id="${form}"`);
      expect(tags(html, "input", (a) => attr(a, "name") === "email" && attr(a, "type") === "email")).toHaveLength(1);
      expect(tags(html, "input", (a) => attr(a, "name") === "password" && attr(a, "type") === "password")).toHaveLength(1);
      expect(tags(html, "button", (a) => attr(a, "type") === "submit")).toHaveLength(1);
      expect(html).toMatch(/role="alert"/);
      // Every input has a label.
      for (const input of tags(html, "input", (a) => attr(a, "type") !== "hidden")) expect(html).toContain(`for="${attr(input, "id")}"`);
    }
  });
});

describe("home, for a web session with an entered profile", () => {
  it("renders the rows of homePage() as poster cards, with the member's CSRF token and profile", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    const res = await page("/", member);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
    expect(res.headers.get("cache-control")).toContain("no-store");
    const html = await res.text();
    expectNoInlineCode(html);
    expect(html).toContain(`<meta name="csrf-token" content="${member.csrfToken}"/>`);
    expect(html).toContain(`<meta name="profile-id" content="${member.profileId}"/>`);
    const rows = [...html.matchAll(/<section class="row" data-row-id="([^"]+)"[^>]*><h2[^>]*>([^<]+)<\/h2>([\s\S]*?)<\/section>/g)];
    expect(rows.map((r) => r[1])).toEqual(expect.arrayContaining(["top-10", "trending", "new-releases"]));
    for (const [, , heading, body] of rows) {
      expect(heading!.length).toBeGreaterThan(0);
      const cards = tags(body!, "a", (a) => /class="card/.test(a));
      expect(cards.length).toBeGreaterThan(0);
      for (const card of cards) expect(attr(card, "href")).toBe(`/title/${attr(card, "data-title-id")}`);
    }
    const images = tags(html, "img", (a) => /class="poster"/.test(a));
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) {
      expect(attr(img, "width")).toBe("200");
      expect(attr(img, "height")).toBe("300");
      expect(attr(img, "alt")).toMatch(/\S/);
      expect(["lazy", "eager"]).toContain(attr(img, "loading"));
    }
    // The first row's first cards load at once; the rest wait for the viewport.
    expect(attr(images[0]!, "loading")).toBe("eager");
    expect(attr(images.at(-1)!, "loading")).toBe("lazy");
    expect(tags(html, "img", (a) => attr(a, "alt") === "First Light").length).toBeGreaterThan(0);
    // Landmarks and the skip link.
    expect(html).toContain('<a class="skip-link" href="#main">');
    expect(html).toMatch(/<header class="site-header">[\s\S]*<nav class="site-nav" aria-label="Main">/);
    expect(html).toContain('<main id="main"');
    expect(html).toContain('id="sign-out"');
    // The R-rated title is shown to this adult profile; the title whose window closed is not.
    expect(html).toContain('data-title-id="late-night"');
    expect(html).not.toContain('data-title-id="long-gone"');
  });

  it("shows Continue Watching with the position as a <progress>", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    await progressOf(member, "second-wind", 30, 120, episodeId("second-wind", 1, 2));
    const html = await (await page("/", member)).text();
    const row = /<section class="row" data-row-id="continue-watching"[\s\S]*?<\/section>/.exec(html)?.[0] ?? "";
    expect(row).toContain("Continue Watching");
    expect(row).toContain('data-title-id="second-wind"');
    expect(row).toMatch(/<progress class="watch-progress" value="30" max="120"/);
    expect(row).toContain("S1:E2 Relapse");
    // It comes first, so its cards are the eager ones.
    expect(html.indexOf('data-row-id="continue-watching"')).toBeLessThan(html.indexOf('data-row-id="top-10"'));
  });

  it("welcomes a member back from Stripe Checkout", async () => {
    const member = await webMember({ plan: "standard", enter: true });
    const html = await (await page("/?checkout=success", member)).text();
    expect(html).toContain("Your plan is active");
  });
});

describe("a title's page", () => {
  it("shows a movie's details with Play, My List and thumbs off", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    const res = await page("/title/first-light", member);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
    const html = await res.text();
    expectNoInlineCode(html);
    expect(html).toContain("<title>First Light · Marquee</title>");
    expect(html).toMatch(/<a id="play"[^>]* href="\/watch\/first-light"[^>]*>(<svg[\s\S]*?<\/svg>)?Play<\/a>/);
    expect(html).toMatch(/<button type="button" id="my-list"[^>]* aria-pressed="false"/);
    expect(html).toMatch(/<button type="button" id="thumbs-up"[^>]* aria-pressed="false"/);
    expect(html).toMatch(/<button type="button" id="thumbs-down"[^>]* aria-pressed="false"/);
    expect(html).toContain("Dawn, slowly.");
    expect(html).toContain("Inès Marchetti");
    expect(html).toContain("Kofi Brennan");
    expect(html).not.toContain('class="episode"');
  });

  it("says Resume where the profile left off, and shows My List and thumbs as the API set them", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    await progressOf(member, "first-light", 3, 6);
    expect((await api(member, "PUT", `/v1/profiles/${member.profileId}/list/first-light`)).status).toBe(201);
    expect((await api(member, "PUT", `/v1/profiles/${member.profileId}/ratings/first-light`, { rating: "up" })).status).toBe(200);
    const html = await (await page("/title/first-light", member)).text();
    expect(html).toMatch(/<a id="play"[^>]*>(<svg[\s\S]*?<\/svg>)?Resume<\/a>/);
    expect(html).toMatch(/id="my-list"[^>]* aria-pressed="true"/);
    expect(html).toMatch(/id="thumbs-up"[^>]* aria-pressed="true"/);
    expect(html).toMatch(/id="thumbs-down"[^>]* aria-pressed="false"/);
    // The player is fetched into the cache while the viewer reads the page: Play does not wait for it.
    expect(html).toMatch(/<link rel="prefetch" href="\/assets\/player-js-[A-Z0-9]+\.js"\/?>/);
    expect(html).toMatch(/<link rel="prefetch" href="\/assets\/player-hls-js-[A-Z0-9]+\.js"\/?>/);
    expect(html).toMatch(/<link rel="prefetch" href="\/assets\/player-css-[A-Z0-9]+\.css"\/?>/);
  });

  it("lists a series' seasons and episodes, each linking to the player, escaping what titles contain", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    await progressOf(member, "second-wind", 30, 120, episodeId("second-wind", 1, 2));
    const html = await (await page("/title/second-wind", member)).text();
    expectNoInlineCode(html);
    expect(html).toContain("Again, &lt;faster&gt;.");
    expect(html).not.toContain("<faster>");
    expect(html).toContain("Season 1");
    expect(html).toContain("Season 2");
    const episodes = tags(html, "a", (a) => /class="episode/.test(a));
    expect(episodes.map((a) => attr(a, "data-episode-id"))).toEqual([episodeId("second-wind", 1, 1), episodeId("second-wind", 1, 2), episodeId("second-wind", 2, 1)]);
    for (const e of episodes) expect(attr(e, "href")).toBe(`/watch/second-wind?episode=${attr(e, "data-episode-id")}`);
    // Resume, on the episode left off, which shows its progress.
    expect(html).toMatch(/<a id="play"[^>]*href="\/watch\/second-wind"[^>]*>(<svg[\s\S]*?<\/svg>)?Resume<\/a>/);
    expect(html).toContain("S1:E2 Relapse");
    expect(html).toMatch(/data-episode-id="second-wind-s1e2"[\s\S]*?<progress class="watch-progress" value="30" max="120"/);
  });

  it("is a 404 page in the site's layout for a title that does not exist or is not for this profile", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    const kids = (await (await api(member, "POST", "/v1/profiles", { name: "Kid", isKids: true })).json()) as { id: string };
    for (const path of ["/title/no-such-title", "/title/long-gone", `/title/${"x".repeat(200)}`, "/title/%3Cscript%3E", "/title/..%2F..%2Fv1%2Fme"]) {
      const res = await page(path, member);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expectSecurityHeaders(res);
      const html = await res.text();
      expect(html).toContain("We couldn&#39;t find that title");
      expect(html).toContain('<header class="site-header">');
      expectNoInlineCode(html);
    }
    // A kids profile does not see the TV-14 series at all.
    await enter(member, kids.id);
    expect((await page("/title/second-wind", member)).status).toBe(404);
    expect((await page("/title/first-light", member)).status).toBe(200);
  });
});

describe("search", () => {
  it("renders results for ?q= as cards, within the profile's maturity level", async () => {
    const member = await webMember({ plan: "basic", enter: true });
    const res = await page("/search?q=first", member);
    expect(res.status).toBe(200);
    const html = await res.text();
    expectNoInlineCode(html);
    expect(html).toMatch(/<input id="search" name="q" type="search" value="first"/);
    expect(html).toMatch(/<label for="search"/);
    const results = /<ul id="search-results"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? "";
    expect(results).toContain('<a class="card" href="/title/first-light" data-title-id="first-light">');
    expect(html).toContain("1 title matches “first”.");
    // Without a query: the form and no results.
    const empty = await (await page("/search", member)).text();
    expect(empty).not.toMatch(/data-title-id=/);
  });
});

describe("who's watching, plans and the account", () => {
  it("lists the profiles, marks those with a PIN, and offers the new-profile form", async () => {
    const member = await webMember({ plan: "basic" });
    expect((await api(member, "POST", "/v1/profiles", { name: "Locked", pin: "4321" })).status).toBe(201);
    const res = await page("/profiles", member);
    expect(res.status).toBe(200);
    const html = await res.text();
    expectNoInlineCode(html);
    expect(html).toContain("Who&#39;s watching?");
    const profiles = tags(html, "a", (a) => /class="profile"/.test(a));
    expect(profiles).toHaveLength(2);
    expect(profiles.map((a) => attr(a, "data-has-pin"))).toEqual(["false", "true"]);
    expect(attr(profiles[0]!, "data-profile-id")).toBe(member.profileId);
    expect(html).toMatch(/<form id="pin-form"[\s\S]*?<input id="pin-input" name="pin"/);
    const form = /<form id="new-profile"[\s\S]*?<\/form>/.exec(html)?.[0] ?? "";
    expect(form).toMatch(/<input id="new-profile-name" name="name" type="text"/);
    expect(form).toMatch(/<input id="new-profile-kids" name="isKids" type="checkbox"/);
    expect(form).toMatch(/<input id="new-profile-pin" name="pin" type="password"/);
    for (const input of tags(form, "input", (a) => attr(a, "type") !== "hidden")) expect(form).toContain(`for="${attr(input, "id")}"`);
  });

  it("offers the three plans, the current one marked", async () => {
    const member = await webMember({ plan: "standard" });
    const html = await (await page("/plans", member)).text();
    expectNoInlineCode(html);
    for (const id of ["basic", "standard", "premium"]) expect(html).toMatch(new RegExp(`<button[^>]* data-plan="${id}"`));
    expect(html).toMatch(/data-plan="standard"[^>]* disabled=""[^>]*>Current plan</);
  });

  it("shows the plan, this device and the streams playing now, each with an end button", async () => {
    const member = await webMember({ plan: "standard", enter: true });
    const start = await api(member, "POST", "/v1/playback/sessions", { titleId: "first-light" });
    expect(start.status).toBe(201);
    const stream = (await start.json()) as { id: string };
    const res = await page("/account", member);
    expect(res.status).toBe(200);
    const html = await res.text();
    expectNoInlineCode(html);
    expect(html).toMatch(/<div id="plan"[^>]*>[\s\S]*Standard/);
    expect(html).toContain(member.email);
    const devices = /<ul id="devices"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? "";
    expect(tags(devices, "li")).toHaveLength(1);
    expect(devices).toContain("This device");
    const streams = /<ul id="streams"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? "";
    expect(streams).toContain(`<li data-stream-id="${stream.id}">`);
    expect(streams).toMatch(/<button type="button" class="[^"]*end-stream"/);
    expect(streams).toContain("First Light");
    expect(html).toContain('id="sign-out-everywhere"');
  });
});
