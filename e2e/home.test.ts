// The first page, as a person sees it in a real browser.
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

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (err) => failures.push(`page error: ${err.message}`));
  page.on("console", (msg) => msg.type() === "error" && failures.push(`console error: ${msg.text()}`));
  page.on("response", (res) => res.status() >= 400 && failures.push(`${res.status()} ${res.url()}`));
});

afterAll(async () => {
  await browser?.close();
});

describe("the first page", () => {
  it("shows the seeded demo catalog, styled, with no failed request or script error", async () => {
    const res = await page.goto(baseUrl, { waitUntil: "load" });
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe("Marquee");
    const names = await page.locator(".card h3").allTextContents();
    // Other e2e files share this platform and may add titles: every demo title must show.
    // Titles outside their availability window (one not yet open, one closed) must not.
    type DemoTitle = { name: string; availableFrom?: string; availableUntil?: string };
    const demo = JSON.parse(await readFile(path.join(projectRoot, "demo/catalog.json"), "utf8")) as { titles: DemoTitle[] };
    const now = new Date().toISOString();
    const available = (t: DemoTitle) => (!t.availableFrom || t.availableFrom <= now) && (!t.availableUntil || t.availableUntil > now);
    expect(names).toEqual(expect.arrayContaining(demo.titles.filter(available).map((t) => t.name)));
    const hidden = demo.titles.filter((t) => !available(t)).map((t) => t.name);
    expect(hidden.length).toBeGreaterThan(0);
    expect(names.filter((n) => hidden.includes(n))).toEqual([]);
    // The content-hashed stylesheet loaded and applied.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(15, 15, 18)");
    // The client script ran.
    expect(await page.evaluate(() => document.documentElement.classList.contains("js"))).toBe(true);
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, "home.png"), fullPage: true });
    expect(failures).toEqual([]);
  });

  it("reaches the media origin from the page", async () => {
    const health = await page.evaluate(async () => (await fetch("/p/healthz")).json());
    expect(health).toMatchObject({ ok: true, service: "marquee-media" });
  });
});
