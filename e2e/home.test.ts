// The front door, as a person goes through it in a real browser: the signed-out landing,
// signing up with the form, choosing a plan, "Who's watching?", and the home rows.
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { projectRoot } from "../tools/project.ts";
import { launchBrowser } from "./browser.ts";

const baseUrl = inject("baseUrl");
const artifacts = path.join(projectRoot, "e2e/artifacts");

let browser: Browser;
let page: Page;
const failures: string[] = [];

type DemoTitle = { id: string; name: string; availableFrom?: string; availableUntil?: string };
let available: Set<string>;
let hidden: Set<string>;

beforeAll(async () => {
  const demo = JSON.parse(await readFile(path.join(projectRoot, "demo/catalog.json"), "utf8")) as { titles: DemoTitle[] };
  const now = new Date().toISOString();
  const isAvailable = (t: DemoTitle) => (!t.availableFrom || t.availableFrom <= now) && (!t.availableUntil || t.availableUntil > now);
  available = new Set(demo.titles.filter(isAvailable).map((t) => t.id));
  hidden = new Set(demo.titles.filter((t) => !isAvailable(t)).map((t) => t.id));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (err) => failures.push(`page error: ${err.message}`));
  // A CSP violation (an inline script or style slipping in) is reported here too.
  page.on("console", (msg) => msg.type() === "error" && failures.push(`console error: ${msg.text()}`));
  page.on("response", (res) => res.status() >= 400 && failures.push(`${res.status()} ${res.url()}`));
  await mkdir(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

describe("the front door", () => {
  it("shows the signed-out landing, styled, behind the security headers, with no failed request or script error", async () => {
    const res = await page.goto(baseUrl, { waitUntil: "load" });
    expect(res?.status()).toBe(200);
    const headers = res!.headers();
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(await page.title()).toBe("Marquee");
    expect(await page.locator('a[href="/signup"]').first().isVisible()).toBe(true);
    expect(await page.locator('a[href="/login"]').first().isVisible()).toBe(true);
    // The content-hashed stylesheet loaded and applied; the client script ran.
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(15, 15, 18)");
    expect(await page.evaluate(() => document.documentElement.classList.contains("js"))).toBe(true);
    await page.screenshot({ path: path.join(artifacts, "landing.png"), fullPage: true });
    expect(failures).toEqual([]);
  });

  it("signs up with the form, takes a plan, enters the first profile and lands on the home rows", async () => {
    await page.click("#landing-signup");
    await page.waitForURL(`${baseUrl}/signup`);
    await page.fill("form#signup-form input[name=email]", `e2e-home-${Date.now()}@example.com`);
    await page.fill("form#signup-form input[name=password]", "a long and unusual passphrase");
    await page.click("form#signup-form button[type=submit]");
    // A new account has no plan: "/" sends it to choose one.
    await page.waitForURL(`${baseUrl}/plans`);
    await page.click("button[data-plan=basic]");
    // Dev billing activates at once; no profile is entered on this device yet.
    await page.waitForURL(`${baseUrl}/profiles`);
    expect(await page.locator("h1").textContent()).toBe("Who's watching?");
    await page.locator("a.profile[data-profile-id]").first().click();
    await page.waitForURL(`${baseUrl}/`);
    expect(await page.getAttribute('meta[name="profile-id"]', "content")).toMatch(/^prf_/);
    expect(await page.getAttribute('meta[name="csrf-token"]', "content")).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(failures).toEqual([]);
  });

  it("shows the demo catalog as rows of poster cards, loading without layout shift", async () => {
    const rows = await page.locator("section.row[data-row-id]").evaluateAll((sections) =>
      sections.map((s) => ({
        id: s.getAttribute("data-row-id"),
        heading: s.querySelector("h2")?.textContent ?? "",
        cards: [...s.querySelectorAll("a.card")].map((a) => {
          const img = a.querySelector("img")!;
          return { id: a.getAttribute("data-title-id"), href: a.getAttribute("href"), alt: img.alt, width: img.getAttribute("width"), height: img.getAttribute("height"), loading: img.loading };
        }),
      })),
    );
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(["top-10", "trending", "top-picks", "new-releases"]));
    const cards = rows.flatMap((r) => r.cards);
    expect(cards.length).toBeGreaterThan(40);
    for (const row of rows) expect(row.heading.length).toBeGreaterThan(0);
    // What the catalog offers now: the demo titles in their window, and any title another
    // browser test published on this platform (the ingest test makes one).
    const live = new Set<string>();
    for (let cursor: string | null = null, i = 0; i === 0 || (cursor && i < 20); i++) {
      const res = await fetch(`${baseUrl}/v1/titles?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
      const body = (await res.json()) as { titles: { id: string }[]; nextCursor: string | null };
      for (const t of body.titles) live.add(t.id);
      cursor = body.nextCursor;
    }
    for (const id of available) expect(live.has(id), id).toBe(true);
    for (const card of cards) {
      // Every card is a title available now; demo titles outside their window never show.
      expect(live.has(card.id!), card.id!).toBe(true);
      expect(hidden.has(card.id!)).toBe(false);
      expect(card.href).toBe(`/title/${card.id}`);
      expect(card.alt.length).toBeGreaterThan(0);
      expect([card.width, card.height]).toEqual(["200", "300"]);
    }
    expect(hidden.size).toBeGreaterThan(0);
    expect(rows[0]!.cards[0]!.loading).toBe("eager");
    expect(cards.at(-1)!.loading).toBe("lazy");
    // The first posters are drawn; and nothing moved while the artwork arrived.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>("section.row a.card img");
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    const shift = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let total = 0;
          new PerformanceObserver((list) => {
            for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) if (!entry.hadRecentInput) total += entry.value;
          }).observe({ type: "layout-shift", buffered: true });
          setTimeout(() => resolve(total), 500);
        }),
    );
    expect(shift).toBeLessThan(0.05);
    // The rows scroll sideways inside the page; the page itself does not grow wider.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: path.join(artifacts, "home.png"), fullPage: true });
    expect(failures).toEqual([]);
  });

  it("moves between cards with the arrow keys", async () => {
    const focused = () => page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      return { id: a?.getAttribute("data-title-id") ?? null, row: a?.closest("section.row")?.getAttribute("data-row-id") ?? null };
    });
    const firstRow = page.locator("section.row").nth(0);
    const secondRow = page.locator("section.row").nth(1);
    const rowIds = async (row: typeof firstRow) => row.locator("a.card").evaluateAll((as) => as.map((a) => a.getAttribute("data-title-id")));
    const [first, second] = [await rowIds(firstRow), await rowIds(secondRow)];
    const firstRowId = await firstRow.getAttribute("data-row-id");
    // One tab stop per row: Tab from the skip link and the header reaches the first card.
    expect(await firstRow.locator("a.card").evaluateAll((as) => as.map((a) => (a as HTMLElement).tabIndex))).toEqual(first.map((_, i) => (i === 0 ? 0 : -1)));
    await firstRow.locator("a.card").first().focus();
    await page.keyboard.press("ArrowRight");
    expect(await focused()).toEqual({ id: first[1], row: firstRowId });
    await page.keyboard.press("ArrowRight");
    expect((await focused()).id).toBe(first[2]);
    await page.keyboard.press("ArrowLeft");
    expect((await focused()).id).toBe(first[1]);
    await page.keyboard.press("ArrowDown");
    const below = await focused();
    expect(below.row).toBe(await secondRow.getAttribute("data-row-id"));
    expect(second).toContain(below.id);
    await page.keyboard.press("ArrowUp");
    expect(await focused()).toEqual({ id: first[1], row: firstRowId });
    await page.keyboard.press("End");
    expect((await focused()).id).toBe(first.at(-1));
    await page.keyboard.press("Enter");
    await page.waitForURL(`${baseUrl}/title/${first.at(-1)}`);
    expect(await page.locator("a#play").getAttribute("href")).toBe(`/watch/${first.at(-1)}`);
    expect(failures).toEqual([]);
  });

  it("reaches the media origin from the page", async () => {
    const health = await page.evaluate(async () => (await fetch("/p/healthz")).json());
    expect(health).toMatchObject({ ok: true, service: "marquee-media" });
  });
});
