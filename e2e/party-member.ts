// Members of a watch party in Chromium, for the browser test and `npm run bench:party`:
// reading both players at one instant, and waiting for the party's client to be in.
import type { Page } from "playwright-core";

// Page-side code below runs in Chromium; this file is also type-checked without the DOM
// library (tools/bench/party.ts imports it).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export type PartyView = {
  connected: boolean;
  you: string | null;
  hostId: string | null;
  members: { id: string; name: string; present: boolean; buffering: boolean }[];
  offsetMs: number | null;
  rttMs: number | null;
  party: { playing: boolean; pos: number; at: number; rate: number; seq: number; waitingFor: string[] } | null;
  driftSec: number | null;
  seeks: number;
};

export function partyView(page: Page): Promise<PartyView | null> {
  return page.evaluate(() => {
    const w = globalThis as Any as { __marqueeParty?: { state(): unknown } };
    return (w.__marqueeParty?.state() ?? null) as never;
  });
}

export async function waitForParty(page: Page, members: number, timeoutMs = 20_000): Promise<PartyView> {
  await page.waitForFunction(
    (n) => {
      const w = globalThis as Any as { __marqueeParty?: { state(): { connected: boolean; members: unknown[]; offsetMs: number | null } } };
      const s = w.__marqueeParty?.state();
      return !!s && s.connected && s.members.length === n && s.offsetMs !== null;
    },
    members,
    { timeout: timeoutMs },
  );
  return (await partyView(page))!;
}

type Reading = { t: number; at: number; paused: boolean; rate: number };

function read(page: Page): Promise<Reading> {
  return page.evaluate(() => {
    const v = (globalThis as Any).document.querySelector("video#player") as { currentTime: number; paused: boolean; playbackRate: number };
    // performance.timeOrigin + now(): the wall clock at sub-millisecond resolution, the same in every page of this machine.
    return { t: v.currentTime, at: performance.timeOrigin + performance.now(), paused: v.paused, rate: v.playbackRate };
  });
}

/**
 * Where each player is at one instant: both are read at once, and each reading is carried
 * to the later of the two read times at its own playback rate (a paused one stays put), so
 * the few milliseconds between the two page evaluations are not counted as disagreement.
 */
export async function positionsAtOneInstant(pages: Page[]): Promise<{ positions: number[]; paused: boolean[]; rates: number[] }> {
  const readings = await Promise.all(pages.map(read));
  const instant = Math.max(...readings.map((r) => r.at));
  return {
    positions: readings.map((r) => (r.paused ? r.t : r.t + ((instant - r.at) / 1000) * r.rate)),
    paused: readings.map((r) => r.paused),
    /** 0 while a player holds a seek for the party's clock to reach it (web/scripts/party/sync.ts). */
    rates: readings.map((r) => (r.paused ? 0 : r.rate)),
  };
}
