// Each title's HLS start bundle (lib/hls-start.ts), kept a few seconds in this isolate, so
// a run of Plays of one title — a premiere, a popular film in the evening — costs the
// media Worker one call per isolate every few seconds instead of one per Play.
//
// A bundle depends on the title's media, the token's maxHeight and the media Worker's
// steering choice (its origins' health, and the operator's policy for the viewer's
// country). The stream's token appears in it only where a steered master writes absolute
// pathway URIs (`/p2/{token}/…`) and its steering server's URI. So a kept bundle serves
// another stream of the same title, height and country with the token swapped: tokens
// are base64url and `.`, which no URI escaping changes, so every occurrence is found.
import type { HlsStart } from "../../../lib/hls-start.ts";

/**
 * How long a bundle is kept: short against the steering choice it carries (its master's
 * first pathway and its steering manifest, which the player takes for its first steering
 * load and keeps for that manifest's TTL: 10 s in dev, 30 s in production) and against a
 * title's media being published again.
 */
export const START_BUNDLE_TTL_MS = 5_000;
/** Entries at most, and their characters at most (a bundle is a few KB, its init segments' bytes included; a 3-hour film's about 150 KB). */
const MAX_ENTRIES = 64;
const MAX_CHARS = 4_000_000;

const charsOf = (b: HlsStart) =>
  b.master.length +
  b.playlists.reduce((n, p) => n + p.uri.length + p.text.length, 0) +
  b.inits.reduce((n, i) => n + i.uri.length + i.data.length, 0) +
  (b.steering ? JSON.stringify(b.steering).length : 0);

/** A bundle kept or on its way (the first Play's request; the others wait for it). */
type Entry = { at: number; token: string; bundle: Promise<HlsStart | null>; chars: number };

export class StartBundles {
  private readonly entries = new Map<string, Entry>();
  private chars = 0;

  constructor(
    private readonly ttlMs = START_BUNDLE_TTL_MS,
    private readonly maxEntries = MAX_ENTRIES,
    private readonly now: () => number = Date.now,
    private readonly maxChars = MAX_CHARS,
  ) {}

  /**
   * The bundle for `key`, written for `token`: the one kept (or on its way) if it is
   * younger than the TTL, else `load()`'s, which is then kept. Null when the load fails
   * (nothing is kept) or when a load another request started has not answered within
   * `waitMs`: a Play never waits on another request's I/O for longer than on its own.
   */
  async take(key: string, token: string, load: () => Promise<HlsStart | null>, waitMs: number): Promise<HlsStart | null> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.at < this.ttlMs) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
      const bundle = await Promise.race([entry.bundle, late]).finally(() => clearTimeout(timer));
      return bundle === null ? null : entry.token === token ? bundle : swapToken(bundle, entry.token, token);
    }
    const mine: Entry = { at: this.now(), token, bundle: load().catch(() => null), chars: 0 };
    this.drop(key);
    if (this.entries.size >= this.maxEntries) this.drop(this.entries.keys().next().value!);
    this.entries.set(key, mine);
    const bundle = await mine.bundle;
    if (this.entries.get(key) !== mine) return bundle;
    if (bundle === null) {
      this.drop(key);
      return null;
    }
    mine.chars = charsOf(bundle);
    this.chars += mine.chars;
    // The oldest first, and this one too if it alone is over the bound.
    while (this.chars > this.maxChars && this.entries.size > 0) this.drop(this.entries.keys().next().value!);
    return bundle;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.chars -= entry.chars;
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The bundle with every occurrence of one token replaced by another. */
export function swapToken(bundle: HlsStart, from: string, to: string): HlsStart {
  const swap = (text: string) => text.replaceAll(from, to);
  return {
    master: swap(bundle.master),
    startVariant: bundle.startVariant,
    playlists: bundle.playlists.map((p) => ({ uri: swap(p.uri), text: swap(p.text) })),
    // An init's bytes never hold a token; its URI does when it is on another pathway.
    inits: bundle.inits.map((i) => ({ uri: swap(i.uri), data: i.data })),
    steering: bundle.steering,
  };
}

/** The key of a stream's bundle: its master's URL with the token taken out, the token's height, and the viewer's country (steering policy is per country). */
export function startBundleKey(hlsUrl: string, token: string, viewer: { maxHeight: number; country: string }): string {
  return `${hlsUrl.replace(`/${token}/`, "/-/")}\n${viewer.maxHeight}\n${viewer.country}`;
}

const byBinding = new WeakMap<object, StartBundles>();

/** The bundles kept for one media Worker binding (an env's; a test's stand-in gets its own). */
export function startBundlesFor(binding: object): StartBundles {
  let bundles = byBinding.get(binding);
  if (!bundles) byBinding.set(binding, (bundles = new StartBundles()));
  return bundles;
}
