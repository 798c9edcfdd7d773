// Watch together in Chromium against `npm run dev` (docs/watch-party.md): two browser
// contexts, two accounts. The host starts a party from the title page, the member opens
// the invite link in the other context and joins on their own account; the host plays,
// seeks to 60 s and pauses through the player's own controls, and after each action both
// players' positions, read at one instant, agree within 0.25 s (printed). The member's
// stream is a screen of the member's own account; the member cannot control while the host
// does; at the end of the film both stay at the end; reactions, avatars and join/leave
// toasts reach the other side.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "./browser.ts";
import { hasFfmpeg, ingestLongFilm } from "./long-film.ts";
import { partyView, positionsAtOneInstant, waitForParty } from "./party-member.ts";
import { joinThroughThePages } from "./web-member.ts";

const baseUrl = inject("baseUrl");
const TOLERANCE_SEC = 0.25;
const FILM_SEC = 90;
const isCI = process.env.CI === "true" || process.env.CI === "1";
if (!hasFfmpeg && !isCI) console.warn("SKIPPED e2e/watch-party.test.ts: it needs ffmpeg to make its film (sudo apt-get install -y ffmpeg)");

let browser: Browser;
let titleId: string;
const contexts: BrowserContext[] = [];
let host: Page;
let member: Page;
const problems: string[] = [];

async function newMember(label: string, plan: "basic" | "standard"): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  contexts.push(context);
  // The page's WebSockets, kept where the test can drop one (dropSocket): observation only.
  await context.addInitScript(() => {
    const Native = WebSocket;
    const w = window as unknown as { __sockets: WebSocket[]; WebSocket: typeof WebSocket };
    w.__sockets = [];
    w.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        w.__sockets.push(this);
      }
    };
  });
  const page = await context.newPage();
  page.on("pageerror", (err) => problems.push(`${label} page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`${label} console error: ${msg.text()}`);
  });
  await joinThroughThePages(page, baseUrl, { email: `e2e-party-${label}-${Date.now()}@example.com`, plan });
  return page;
}

/**
 * Waits until the action has taken effect on both players (paused or playing as expected,
 * and where `there` says, if given) and they agree within the tolerance — playing for real
 * when they should be: two players both holding a seek (rate 0) agree trivially — then
 * reads them five more times over a second: the largest of those is the figure (a single
 * lucky reading proves nothing).
 */
async function agreement(what: string, expectPaused: boolean, there: (pos: number) => boolean = () => true): Promise<{ worst: number; at: number }> {
  const deadline = Date.now() + 20_000;
  let last = { positions: [0, 0], paused: [false, false], rates: [0, 0] };
  for (;;) {
    last = await positionsAtOneInstant([host, member]);
    const moving = expectPaused || last.rates.every((r) => r > 0);
    const settled = moving && last.paused.every((p) => p === expectPaused) && last.positions.every(there) && Math.abs(last.positions[0]! - last.positions[1]!) < TOLERANCE_SEC;
    if (settled) break;
    if (Date.now() > deadline) throw new Error(`${what}: players never agreed: ${JSON.stringify(last)}; host ${JSON.stringify(await partyView(host))}; member ${JSON.stringify(await partyView(member))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let worst = 0;
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await positionsAtOneInstant([host, member]);
    worst = Math.max(worst, Math.abs(now.positions[0]! - now.positions[1]!));
    last = now;
  }
  // Each player's own distance from the party's clock, as its sync last measured it (+ ahead).
  const drifts = (await Promise.all([host, member].map(partyView))).map((v) => (v?.driftSec == null ? "?" : `${v.driftSec >= 0 ? "+" : ""}${v.driftSec.toFixed(3)}`));
  console.log(`party sync after ${what}: ${worst.toFixed(3)} s apart at most (host ${last.positions[0]!.toFixed(2)} s, member ${last.positions[1]!.toFixed(2)} s; from the party's clock: host ${drifts[0]} s, member ${drifts[1]} s)`);
  return { worst, at: last.positions[0]! };
}

/** The seek bar moved as a viewer drags it: input while dragging, change on letting go. */
const dragSeekBar = (p: Page, to: number) =>
  p.evaluate((value) => {
    const seek = document.querySelector<HTMLInputElement>("input#seek")!;
    seek.value = String(value);
    seek.dispatchEvent(new Event("input"));
    seek.dispatchEvent(new Event("change"));
  }, to);

const videoOf = (p: Page) =>
  p.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>("video#player")!;
    return { t: v.currentTime, ended: v.ended, paused: v.paused, bar: Number(document.querySelector<HTMLInputElement>("input#seek")!.value) };
  });

/**
 * Drops the page's party socket from its side. A page may only close with 1000 or
 * 3000-4999, so 3000 stands for a network drop (1006): the client treats every code but
 * the party's final ones alike.
 */
const dropSocket = (p: Page) =>
  p.evaluate(() => {
    const open = (window as unknown as { __sockets: WebSocket[] }).__sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
    for (const ws of open) ws.close(3000, "test: a drop");
    return open.length;
  });

const phaseOf = async (p: Page) => ((await partyView(p)) as { phase?: string } | null)?.phase;

const streamsOf = (p: Page) =>
  p.evaluate(async () => ((await (await fetch("/v1/playback/sessions", { credentials: "same-origin" })).json()) as { streams: { id: string; thisDevice?: boolean }[] }).streams);

beforeAll(async () => {
  if (!hasFfmpeg && !isCI) return;
  browser = await launchBrowser();
  [titleId] = [(await ingestLongFilm(baseUrl, `Party Night ${Date.now()}`, FILM_SEC)).titleId];
  [host, member] = await Promise.all([newMember("host", "standard"), newMember("member", "basic")]);
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
});

describe.runIf(hasFfmpeg || isCI)("Watch together", () => {
  let inviteUrl: string;

  it("the host starts a party from the title page and the member joins from the invite link", async () => {
    await host.goto(`${baseUrl}/title/${encodeURIComponent(titleId)}`);
    await host.click("button#watch-together");
    await host.waitForURL(/\/watch\/.+[?&]party=pty_/);
    const alone = await waitForParty(host, 1);
    expect(alone.hostId).toBe(alone.you);
    inviteUrl = await host.inputValue("#party-invite");
    expect(inviteUrl).toMatch(new RegExp(`^${baseUrl}/party/pty_[A-Za-z0-9_-]{22}$`));

    await host.evaluate(() => {
      const w = window as unknown as { __toasts: string[] };
      w.__toasts = [];
      new MutationObserver(() => w.__toasts.push(document.getElementById("party-toasts")!.textContent ?? "")).observe(document.getElementById("party-toasts")!, { childList: true });
    });
    await member.goto(inviteUrl);
    await member.waitForURL(/\/watch\/.+[?&]party=pty_/);
    const joined = await waitForParty(member, 2);
    expect(joined.hostId).toBe(alone.you);
    await waitForParty(host, 2);
    await expect.poll(() => host.evaluate(() => (window as unknown as { __toasts: string[] }).__toasts.join(" | "))).toContain("joined");
    // Both see both avatars, the host marked; and both players say they wait paused, not "Loading…".
    for (const p of [host, member]) {
      await expect.poll(() => p.locator("#party-panel .party-member").count()).toBe(2);
      expect(await p.locator('#party-panel .party-member[data-host="true"]').count()).toBe(1);
      expect(await p.locator("#party-panel .party-member .party-avatar.avatar").count()).toBe(2);
      await expect.poll(() => p.getAttribute("#player-status", "data-state")).toBe("paused");
    }
  });

  it("each member plays on their own account: one screen of each", async () => {
    const [hostStreams, memberStreams] = await Promise.all([streamsOf(host), streamsOf(member)]);
    expect(hostStreams).toHaveLength(1);
    expect(memberStreams).toHaveLength(1);
    expect(memberStreams[0]!.id).not.toBe(hostStreams[0]!.id);
    const ids = await Promise.all([host, member].map((p) => p.evaluate(() => (window as unknown as { __marqueePlayer: { state(): { playbackSessionId: string } } }).__marqueePlayer.state().playbackSessionId)));
    expect(hostStreams[0]!.id).toBe(ids[0]);
    expect(memberStreams[0]!.id).toBe(ids[1]);
  });

  it("the host's play, seek to 60 s and pause reach the member: within 0.25 s after each", async () => {
    await host.click("#play-pause");
    const played = await agreement("play", false);
    expect(played.worst).toBeLessThan(TOLERANCE_SEC);

    await dragSeekBar(host, 60);
    const seeked = await agreement("seek to 60 s", false, (pos) => pos >= 60);
    expect(seeked.worst).toBeLessThan(TOLERANCE_SEC);
    expect(seeked.at).toBeGreaterThanOrEqual(60);
    expect(seeked.at).toBeLessThan(70);

    await host.click("#play-pause");
    const paused = await agreement("pause", true);
    expect(paused.worst).toBeLessThan(TOLERANCE_SEC);
  });

  it("the member cannot control while the host does, and is told so", async () => {
    const before = (await partyView(host))!.party!;
    await member.click("#play-pause");
    await expect.poll(() => member.locator("#party-toasts").textContent()).toContain("Only the host controls playback");
    // A refused seek: the bar goes back to where the (paused) video is, and the video stays.
    const toasts = await member.locator("#party-toasts .party-toast").count();
    await dragSeekBar(member, 10);
    await expect.poll(() => member.locator("#party-toasts .party-toast").count()).toBeGreaterThan(toasts);
    const refused = await videoOf(member);
    expect(Math.abs(refused.bar - refused.t)).toBeLessThan(0.2);
    expect(refused.t).toBeGreaterThan(55);
    await new Promise((r) => setTimeout(r, 500));
    const after = await positionsAtOneInstant([host, member]);
    expect(after.paused).toEqual([true, true]);
    expect((await partyView(host))!.party!.seq).toBe(before.seq);
  });

  it("at the end of the film both players stop there, and the host's play starts it over for both", async () => {
    await dragSeekBar(host, FILM_SEC - 4);
    await host.click("#play-pause");
    await expect.poll(async () => (await Promise.all([host, member].map(videoOf))).map((v) => v.ended), { timeout: 20_000 }).toEqual([true, true]);
    // And they stay ended: play() on an ended video would start it over, and the party's clock would seek it back.
    const seeks = await Promise.all([host, member].map(async (p) => (await partyView(p))!.seeks));
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const now = await Promise.all([host, member].map(videoOf));
      expect(now.map((v) => v.ended)).toEqual([true, true]);
    }
    expect(await Promise.all([host, member].map(async (p) => (await partyView(p))!.seeks))).toEqual(seeks);

    await host.click("#play-pause");
    const again = await agreement("play after the end", false, (pos) => pos < 10);
    expect(again.worst).toBeLessThan(TOLERANCE_SEC);
    expect(again.at).toBeLessThan(10);
    await host.click("#play-pause");
    expect((await agreement("pause after the end", true)).worst).toBeLessThan(TOLERANCE_SEC);
  });

  it("a dropped member reconnects as the same member, and the host keeps them", async () => {
    const was = (await partyView(member))!.you;
    expect(await dropSocket(member)).toBe(1);
    await expect.poll(() => phaseOf(member)).toBe("reconnecting");
    const back = await waitForParty(member, 2);
    expect(back.you).toBe(was);
    expect(back.hostId).toBe((await partyView(host))!.you);
    await expect.poll(async () => (await partyView(host))!.members.map((m) => m.present)).toEqual([true, true]);
    expect(await host.evaluate(() => (window as unknown as { __toasts: string[] }).__toasts.join(" | "))).not.toContain("left");
  });

  it("a reaction reaches the other side, and leaving is seen", async () => {
    await host.evaluate(() => {
      const w = window as unknown as { __floats: string[] };
      w.__floats = [];
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes) if (n instanceof HTMLElement && n.dataset.emoji) w.__floats.push(n.dataset.emoji);
      }).observe(document.querySelector(".party-floats")!, { childList: true });
    });
    await member.click('.party-reaction[data-emoji="🔥"]');
    await expect.poll(() => host.evaluate(() => (window as unknown as { __floats: string[] }).__floats)).toContain("🔥");

    await member.click("#party-leave");
    await waitForParty(host, 1);
    await expect.poll(() => host.evaluate(() => (window as unknown as { __toasts: string[] }).__toasts.join(" | "))).toContain("left");
    expect(problems).toEqual([]);
  });

  it("after a drop into a party that is gone, the client stops retrying and the player goes on alone", async () => {
    // The party's GET answers 404, as it does once a party is over (its socket upgrade is
    // refused then too, which the page sees only as a bare 1006).
    await host.route(/\/v1\/parties\/pty_[^/?]+$/, (route) => route.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ error: { code: "NOT_FOUND", message: "That watch party has ended." } }) }));
    const sockets = () => host.evaluate(() => (window as unknown as { __sockets: WebSocket[] }).__sockets.length);
    const before = await sockets();
    expect(await dropSocket(host)).toBe(1);
    await expect.poll(() => phaseOf(host)).toBe("over");
    expect(await host.locator("#party-status").textContent()).toBe("This watch party has ended.");
    expect(await sockets()).toBe(before);
    // The controls are the player's own again.
    const paused = await videoOf(host);
    expect(paused.paused).toBe(true);
    await host.click("#play-pause");
    await expect.poll(async () => (await videoOf(host)).paused).toBe(false);
    await host.unroute(/\/v1\/parties\/pty_[^/?]+$/);
  });
});
