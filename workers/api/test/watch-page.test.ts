// The watch page (GET /watch/:titleId): the shell the player script fills in, for signed-in
// web sessions only, with the security headers and nothing inline. Plus the player's pure
// pieces that need no browser: trick-play VTT parsing and the token swap in media URLs.
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import manifest from "../../../web/dist/manifest.json";
import { cueAt, parseTrickPlayVtt, parseVttTime } from "../../../web/scripts/player/trickplay-vtt.ts";
import { tokenOf, withToken } from "../../../web/scripts/player/tokens.ts";
import { nextEpisodeHref } from "../../../web/scripts/player/links.ts";
import { watchPageCsp } from "../pages/watch-routes.tsx";
import { newClientAddress } from "./auth-client.ts";

const origin = "https://marquee.test";

function get(path: string, headers: Record<string, string> = {}) {
  return exports.default.fetch(`${origin}${path}`, { headers, redirect: "manual" });
}

type WebMember = { cookie: string; csrf: string; profileId: string };

let counter = 0;
async function webSignUp(): Promise<WebMember> {
  const res = await exports.default.fetch(`${origin}/v1/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json", "CF-Connecting-IP": newClientAddress() },
    body: JSON.stringify({ email: `watch-page-${Date.now()}-${++counter}@example.com`, password: "correct horse battery staple", client: "web" }),
  });
  expect(res.status).toBe(201);
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
  const me = await exports.default.fetch(`${origin}/v1/me`, { headers: { Cookie: cookie } });
  const profileId = ((await me.json()) as { profiles: { id: string }[] }).profiles[0]!.id;
  return { cookie, csrf, profileId };
}

/** What the page's markup holds, read with the runtime's own HTML parser. */
async function inspect(res: Response) {
  const found = {
    ids: new Map<string, Record<string, string>>(),
    metas: new Map<string, string>(),
    scripts: [] as { src: string | null; type: string | null; text: string }[],
    stylesheets: [] as string[],
    styleElements: 0,
    styleAttributes: [] as string[],
    handlerAttributes: [] as string[],
    main: null as Record<string, string> | null,
  };
  let script: { src: string | null; type: string | null; text: string } | null = null;
  await new HTMLRewriter()
    .on("*", {
      element(e) {
        const attrs = Object.fromEntries([...e.attributes]);
        if ("style" in attrs) found.styleAttributes.push(e.tagName);
        for (const name of Object.keys(attrs)) if (/^on/i.test(name)) found.handlerAttributes.push(`${e.tagName}[${name}]`);
        if (attrs.id) found.ids.set(attrs.id, { tag: e.tagName, ...attrs });
        if (e.tagName === "main") found.main = attrs;
        if (e.tagName === "meta" && attrs.name) found.metas.set(attrs.name, attrs.content ?? "");
        if (e.tagName === "link" && attrs.rel === "stylesheet") found.stylesheets.push(attrs.href ?? "");
        if (e.tagName === "style") found.styleElements++;
      },
    })
    .on("script", {
      element(e) {
        script = { src: e.getAttribute("src"), type: e.getAttribute("type"), text: "" };
        found.scripts.push(script);
      },
      text(t) {
        if (script) script.text += t.text;
      },
    })
    .transform(res)
    .text();
  return found;
}

describe("GET /watch/:titleId signed out", () => {
  it("redirects to sign-in (303) with the way back, the page's own path and query", async () => {
    const res = await get("/watch/first-light?episode=second-wind-s1e2");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/login?next=${encodeURIComponent("/watch/first-light?episode=second-wind-s1e2")}`);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  it("treats an unknown or forged cookie as signed out", async () => {
    const res = await get("/watch/first-light", { Cookie: "__Host-marquee_session=forged-token" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?next=%2Fwatch%2Ffirst-light");
  });

  it("answers 404 for an over-long id", async () => {
    const res = await get(`/watch/${"x".repeat(65)}`);
    expect(res.status).toBe(404);
  });
});

describe("GET /watch/:titleId signed in on the web", () => {
  let member: WebMember;

  beforeAll(async () => {
    member = await webSignUp();
  });

  it("renders the player shell: the contract's ids, the title, the CSRF token, the player assets", async () => {
    const res = await get("/watch/first-light", { Cookie: member.cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await inspect(res.clone());
    expect((await res.text()).startsWith("<!doctype html>")).toBe(true);

    expect(page.main).toMatchObject({ "data-title-id": "first-light" });
    expect(page.main).not.toHaveProperty("data-episode-id");
    expect(page.metas.get("csrf-token")).toBe(member.csrf);
    // No profile entered on this device yet.
    expect(page.metas.has("profile-id")).toBe(false);

    expect(page.ids.get("player")).toMatchObject({ tag: "video" });
    expect(page.ids.get("player-status")).toMatchObject({ "data-state": "loading" });
    expect(page.ids.get("quality")).toMatchObject({ tag: "select" });
    expect(page.ids.get("subtitles")).toMatchObject({ tag: "select" });
    expect(page.ids.get("seek")).toMatchObject({ tag: "input", type: "range" });
    for (const id of ["rendition", "trickplay", "next-episode", "player-error"]) expect(page.ids.has(id), id).toBe(true);
    expect(page.ids.get("next-episode")).toMatchObject({ tag: "a" });
    expect(page.ids.get("player-error")).toHaveProperty("data-code");

    // The content-hashed bundles from the manifest: the site's styles and the player (its script alone).
    expect(manifest["player.js"]).toMatch(/^\/assets\/player-js-[A-Z0-9]+\.js$/);
    expect(manifest["player.css"]).toMatch(/^\/assets\/player-css-[A-Z0-9]+\.css$/);
    expect(page.stylesheets).toEqual([manifest["app.css"], manifest["player.css"]]);
    expect(page.scripts.map((s) => s.src)).toEqual([manifest["player.js"]]);
    expect(page.scripts.every((s) => s.type === "module")).toBe(true);
    // hls.js's own bundle is not loaded by the page: the player imports it after the first frame.
    expect(manifest["player-hls.js"]).toMatch(/^\/assets\/player-hls-js-[A-Z0-9]+\.js$/);
    expect(page.metas.get("player-hls-script")).toBe(manifest["player-hls.js"]);
    expect(page.metas.get("party-script")).toBe(manifest["party.js"]);
  });

  it("has nothing inline: no script bodies, style elements, style or on* attributes", async () => {
    const page = await inspect(await get("/watch/first-light?episode=x", { Cookie: member.cookie }));
    expect(page.scripts.length).toBeGreaterThan(0);
    expect(page.scripts.filter((s) => s.src === null || s.text.trim() !== "")).toEqual([]);
    expect(page.styleElements).toBe(0);
    expect(page.styleAttributes).toEqual([]);
    expect(page.handlerAttributes).toEqual([]);
  });

  it("sends the security headers, and keeps the page out of caches", async () => {
    const res = await get("/watch/first-light", { Cookie: member.cookie });
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    expect(directives).toMatchObject({
      "default-src": "'self'",
      "script-src": "'self'",
      "style-src": "'self'",
      "img-src": "'self' data: blob:",
      "media-src": "'self' blob:",
      "worker-src": "'self' blob:",
      "connect-src": "'self'",
      "frame-ancestors": "'none'",
      "base-uri": "'self'",
      "form-action": "'self'",
    });
    expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d{8,}/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(res.headers.get("cache-control")).toContain("no-store");
  });

  it("carries the episode and, once a profile is entered on this device, the profile id", async () => {
    const enter = await exports.default.fetch(`${origin}/v1/profiles/${member.profileId}/enter`, {
      method: "POST",
      headers: { Cookie: member.cookie, "X-CSRF-Token": member.csrf, "content-type": "application/json" },
      body: "{}",
    });
    expect(enter.status).toBe(200);
    const page = await inspect(await get("/watch/second-wind?episode=second-wind-s1e2", { Cookie: member.cookie }));
    expect(page.main).toMatchObject({ "data-title-id": "second-wind", "data-episode-id": "second-wind-s1e2" });
    expect(page.metas.get("profile-id")).toBe(member.profileId);
  });

  it("escapes what the URL carries", async () => {
    const res = await get(`/watch/${encodeURIComponent('a"><script>x()</script>')}?episode=${encodeURIComponent("<b>")}`, { Cookie: member.cookie });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("<script>x()");
    expect(html).not.toContain("<b>");
    expect(html).toContain('data-title-id="a&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"');
  });

  it("gives the token the API wants: the page's CSRF token passes the check (a beacon without it would not)", async () => {
    // The player's POSTs carry this meta's token. The account has no plan, so Play is refused
    // for that reason, not for CSRF.
    const page = await inspect(await get("/watch/first-light", { Cookie: member.cookie }));
    const play = await exports.default.fetch(`${origin}/v1/playback/sessions`, {
      method: "POST",
      headers: { Cookie: member.cookie, "X-CSRF-Token": page.metas.get("csrf-token")!, "content-type": "application/json" },
      body: JSON.stringify({ titleId: "first-light" }),
    });
    expect(((await play.json()) as { error: { details: { reason: string } } }).error.details.reason).not.toBe("csrf");
    // navigator.sendBeacon cannot set headers: POST /v1/events without X-CSRF-Token is refused,
    // which is why the player sends its last events with fetch(…, { keepalive: true }).
    const beacon = await exports.default.fetch(`${origin}/v1/events`, {
      method: "POST",
      headers: { Cookie: member.cookie, "content-type": "text/plain;charset=UTF-8" },
      body: JSON.stringify({ events: [] }),
    });
    expect(beacon.status).toBe(403);
    expect(((await beacon.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe("csrf");
  });
});

describe("the watch page's CSP with a media origin of its own", () => {
  it("allows that origin for video, playlists and thumbnails", () => {
    const csp = watchPageCsp("https://media.marquee.example/");
    expect(csp).toContain("media-src 'self' blob: https://media.marquee.example;");
    expect(csp).toContain("connect-src 'self' https://media.marquee.example;");
    expect(csp).toContain("img-src 'self' data: blob: https://media.marquee.example;");
    expect(csp).toContain("worker-src 'self' blob:;");
  });

  it("ignores a value that is not an origin", () => {
    expect(watchPageCsp("not a url")).toBe(watchPageCsp(""));
    expect(watchPageCsp("")).toContain("media-src 'self' blob:;");
  });
});

describe("the player's trick-play VTT", () => {
  const vtt = [
    "WEBVTT",
    "",
    "00:00:00.000 --> 00:00:02.000",
    "sprite.jpg#xywh=0,0,160,90",
    "",
    "2",
    "00:00:02.000 --> 00:00:04.000",
    "sprite.jpg#xywh=160,0,160,90",
    "",
    "00:04.000 --> 00:06.500",
    "other/sheet.jpg",
    "",
  ].join("\r\n");
  const base = "https://marquee.test/p/TOKEN/demo-aurora/thumbs/thumbs.vtt";

  it("maps time ranges to tiles of sprites, relative to the VTT's URL", () => {
    const cues = parseTrickPlayVtt(vtt, base);
    expect(cues).toEqual([
      { start: 0, end: 2, url: "https://marquee.test/p/TOKEN/demo-aurora/thumbs/sprite.jpg", tile: { x: 0, y: 0, w: 160, h: 90 } },
      { start: 2, end: 4, url: "https://marquee.test/p/TOKEN/demo-aurora/thumbs/sprite.jpg", tile: { x: 160, y: 0, w: 160, h: 90 } },
      { start: 4, end: 6.5, url: "https://marquee.test/p/TOKEN/demo-aurora/thumbs/other/sheet.jpg", tile: null },
    ]);
    expect(cueAt(cues, 0)?.tile?.x).toBe(0);
    expect(cueAt(cues, 3.99)?.tile?.x).toBe(160);
    expect(cueAt(cues, 4)?.tile).toBeNull();
    expect(cueAt(cues, 60)?.end).toBe(6.5);
    expect(cueAt([], 1)).toBeNull();
  });

  it("reads hours, minutes and fractions; refuses what is not WebVTT", () => {
    expect(parseVttTime("01:02:03.500")).toBe(3723.5);
    expect(parseVttTime("02:03.5")).toBe(123.5);
    expect(parseTrickPlayVtt("00:00:00.000 --> 00:00:02.000\nsprite.jpg", base)).toEqual([]);
  });
});

describe("the player's media URLs and links", () => {
  it("moves every media URL to the newest token", () => {
    const url = "https://marquee.test/p/OLD.tok-1/demo-aurora/720p/3.m4s";
    expect(tokenOf(url)).toBe("OLD.tok-1");
    expect(withToken(url, "NEW")).toBe("https://marquee.test/p/NEW/demo-aurora/720p/3.m4s");
    expect(withToken("/p/OLD/demo-aurora/master.m3u8", "NEW")).toBe("/p/NEW/demo-aurora/master.m3u8");
    expect(withToken("https://marquee.test/v1/me", "NEW")).toBe("https://marquee.test/v1/me");
    expect(withToken(url, null)).toBe(url);
    // A replica's pathway (docs/media-origin.md) carries its token in the same place.
    expect(withToken("https://marquee.test/p2/OLD/demo-aurora/720p/3.m4s", "NEW")).toBe("https://marquee.test/p2/NEW/demo-aurora/720p/3.m4s");
    expect(tokenOf("/p2/OLD/demo-aurora/audio-en/playlist.m3u8")).toBe("OLD");
    expect(withToken("https://marquee.test/p22/OLD/x", "NEW")).toBe("https://marquee.test/p22/OLD/x");
  });

  it("links the next episode, keeping a test's heartbeat period", () => {
    expect(nextEpisodeHref("second-wind", "second-wind-s2e1", "?episode=second-wind-s1e2&heartbeat=2")).toBe("/watch/second-wind?episode=second-wind-s2e1&heartbeat=2");
    expect(nextEpisodeHref("second-wind", "second-wind-s2e1", "")).toBe("/watch/second-wind?episode=second-wind-s2e1");
  });
});
