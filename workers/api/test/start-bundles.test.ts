// Start bundles kept per isolate (workers/api/playback/start-bundles.ts): one load per key
// for a burst of Plays, the token swapped for each stream, nothing kept past the TTL or
// from a failed load, and no Play waiting on another's load longer than on its own.
import { describe, expect, it } from "vitest";
import type { HlsStart } from "../../../lib/hls-start.ts";
import { StartBundles, startBundleKey, swapToken } from "../playback/start-bundles.ts";

const A = "eyJhIjoxfQ.c2lnbmF0dXJlLWE";
const B = "eyJhIjoyfQ.c2lnbmF0dXJlLWI";
const written = (token: string): HlsStart => ({
  master: `#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI="/p/${token}/t/steering.hls.json",PATHWAY-ID="p"\n#EXT-X-STREAM-INF:BANDWIDTH=1,PATHWAY-ID="p2"\n/p2/${token}/t/480p/playlist.m3u8\n`,
  startVariant: 0,
  playlists: [{ uri: "480p/playlist.m3u8", text: "#EXTM3U\n#EXT-X-MAP:URI=\"init.m4s\"\n#EXTINF:2,\n1.m4s\n" }],
  // An init on another pathway carries the token in its URI; its bytes never do.
  inits: [
    { uri: "480p/init.m4s", data: "AAECAw" },
    { uri: `/p2/${token}/t/audio-en/init.m4s`, data: "BAUGBw" },
  ],
  steering: { VERSION: 1, TTL: 10, "PATHWAY-PRIORITY": ["p", "p2"] },
});

function clocked() {
  let now = 1_000_000;
  return { at: (ms: number) => (now = 1_000_000 + ms), now: () => now };
}

describe("StartBundles", () => {
  it("loads once for a burst of Plays of one title, and hands each stream the bundle with its own token", async () => {
    const clock = clocked();
    const bundles = new StartBundles(5000, 64, clock.now);
    let loads = 0;
    const load = (token: string) => async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return written(token);
    };
    const tokens = Array.from({ length: 20 }, (_, i) => (i % 2 ? A : B));
    const got = await Promise.all(tokens.map((t) => bundles.take("k", t, load(t), 1000)));
    expect(loads).toBe(1);
    got.forEach((bundle, i) => expect(bundle).toEqual(written(tokens[i]!)));
    clock.at(4999);
    expect(await bundles.take("k", A, load(A), 1000)).toEqual(written(A));
    expect(loads).toBe(1);
  });

  it("loads again once the bundle is as old as the TTL, and keeps nothing from a failed load", async () => {
    const clock = clocked();
    const bundles = new StartBundles(5000, 64, clock.now);
    let loads = 0;
    const ok = async () => (loads++, written(A));
    await bundles.take("k", A, ok, 1000);
    clock.at(5000);
    await bundles.take("k", A, ok, 1000);
    expect(loads).toBe(2);
    expect(await bundles.take("f", A, async () => (loads++, null), 1000)).toBeNull();
    expect(await bundles.take("f", A, async () => { loads++; throw new Error("down"); }, 1000)).toBeNull();
    expect(await bundles.take("f", A, ok, 1000)).toEqual(written(A));
    expect(loads).toBe(5);
  });

  it("answers null to a Play whose wait on another's load outlasts its own limit", async () => {
    const bundles = new StartBundles();
    const never = bundles.take("k", A, () => new Promise<HlsStart | null>(() => {}), 1000);
    void never;
    const started = Date.now();
    expect(await bundles.take("k", B, async () => written(B), 20)).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("keeps at most its bound, dropping the oldest", async () => {
    const bundles = new StartBundles(5000, 3);
    for (const key of ["a", "b", "c", "d"]) await bundles.take(key, A, async () => written(A), 1000);
    expect(bundles.size).toBe(3);
    let loads = 0;
    await bundles.take("a", A, async () => (loads++, written(A)), 1000);
    await bundles.take("d", A, async () => (loads++, written(A)), 1000);
    expect(loads).toBe(1);
  });

  it("keeps at most its bound of characters, dropping the oldest, and does not keep a bundle over it alone", async () => {
    const one = JSON.stringify(written(A)).length; // a little over the bundle's own characters
    const bundles = new StartBundles(5000, 64, Date.now, 2 * one);
    for (const key of ["a", "b", "c"]) await bundles.take(key, A, async () => written(A), 1000);
    expect(bundles.size).toBe(2);
    const huge = { ...written(A), master: "#EXTM3U\n".repeat(one) };
    expect(await bundles.take("h", A, async () => huge, 1000)).toEqual(huge);
    expect(bundles.size).toBe(0);
  });

  it("keys by the master's URL without its token, and the height", () => {
    const url = (t: string) => `https://m.test/p/${t}/film/master.m3u8`;
    const fr = { maxHeight: 720, country: "FR" };
    expect(startBundleKey(url(A), A, fr)).toBe(startBundleKey(url(B), B, fr));
    expect(startBundleKey(url(A), A, fr)).not.toBe(startBundleKey(url(A), A, { ...fr, maxHeight: 1080 }));
    expect(startBundleKey(url(A), A, fr)).not.toBe(startBundleKey(url(A), A, { ...fr, country: "DE" }));
    expect(startBundleKey(url(A), A, fr)).not.toBe(startBundleKey(url(A).replace("film", "other"), A, fr));
    expect(JSON.stringify(swapToken(written(A), A, B))).not.toContain(A);
  });
});
