// The first segments, fetched the moment the Play answer is in: it carries the media
// playlists the player starts on (inline), so the init and first media segment of the start
// variant and of its audio are known before hls.js has even opened its MediaSource. hls.js
// then asks its fragment loader for them, and gets these bytes instead of a request of its
// own — the segments' round trip overlaps the player's own start-up rather than following it.
// The init segments usually come in the Play answer itself (`hlsInitSegments`): those are
// answered from its bytes, and only the first media segments go over the network.
import { base64UrlDecode } from "../../../lib/base64url.ts";

export type Prefetched = { data: ArrayBuffer; start: number; first: number; end: number };

/** The init segment (EXT-X-MAP) and the media segment holding `positionSec`, as absolute URLs. */
export function startSegments(playlistUrl: string, text: string, positionSec: number): string[] {
  const lines = text.split("\n").map((l) => l.trim());
  const urls: string[] = [];
  const map = lines.find((l) => l.startsWith("#EXT-X-MAP:"));
  const mapUri = map ? /URI="([^"]{1,256})"/.exec(map)?.[1] : undefined;
  if (mapUri) urls.push(new URL(mapUri, playlistUrl).toString());
  let at = 0;
  let last: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith("#EXTINF:")) continue;
    const duration = Number.parseFloat(line.slice("#EXTINF:".length));
    const uri = lines.slice(i + 1).find((l) => l !== "" && !l.startsWith("#"));
    if (!uri || !Number.isFinite(duration)) break;
    last = uri;
    if (positionSec < at + duration) return [...urls, new URL(uri, playlistUrl).toString()];
    at += duration;
  }
  // Past the end (a resume point at the very end): the last segment.
  return last ? [...urls, new URL(last, playlistUrl).toString()] : urls;
}

/** One start-up request: the segment's URL (what hls.js asks for) and what is fetched for it. */
export type StartRequest = { url: string; request: string };

/**
 * The start-up requests for a Play answer's inline playlists (the start variant's, then its
 * audio's): init and first media segment of each, with the CMCD hls.js would send (the
 * session and content ids, the object type, startup), so they are in the session's CMCD
 * timeline too. The same answer gives the same requests, byte for byte: the title page's
 * Play on intent fetches them into the browser's HTTP cache (segments are immutable),
 * and the watch page's fetch of them is then a cache hit.
 */
export function startRequests(
  playlists: { url: string; text: string }[],
  positionSec: number,
  rewrite: (url: string) => string,
  cmcd: { sid: string; cid: string },
  inHand: ReadonlySet<string> = new Set(),
): StartRequest[] {
  const out: StartRequest[] = [];
  playlists.forEach((p, i) => {
    startSegments(p.url, p.text, positionSec).forEach((url, j) => {
      // Already in the Play answer (an init segment's bytes), or already asked for.
      if (inHand.has(url) || out.some((r) => r.url === url)) return;
      const ot = j === 0 && p.text.includes("#EXT-X-MAP:") ? "i" : i === 0 ? "v" : "a";
      // CTA-5004 query form: keys in alphabetical order, strings quoted.
      const query = `CMCD=${encodeURIComponent(`cid=${JSON.stringify(cmcd.cid)},ot=${ot},sid=${JSON.stringify(cmcd.sid)},su`)}`;
      out.push({ url, request: `${rewrite(url)}?${query}` });
    });
  });
  return out;
}

/** The Play answer's init segments, by URL, that decode (canonical base64url); any other is fetched as usual. */
export function initsInHand(inits: readonly { url: string; data: string }[]): Map<string, ArrayBuffer> {
  const out = new Map<string, ArrayBuffer>();
  for (const { url, data } of inits) {
    const bytes = base64UrlDecode(data);
    if (bytes && bytes.byteLength > 0) out.set(url, bytes.buffer);
  }
  return out;
}

/** Where a Play answer starts: its resume point, or 0 when the viewer asked to start over. */
export const startPosition = (session: { resume: { positionSec: number } }, startOver: boolean) => (!startOver && session.resume.positionSec > 0 ? session.resume.positionSec : 0);

export class SegmentPrefetch {
  private readonly pending = new Map<string, Promise<Prefetched>>();
  private readonly kept = new Set<string>();
  /** URLs the first frame or hls.js took from here (each once), for the browser tests. */
  readonly used: string[] = [];

  /**
   * `playlists`: the start variant's, then its audio's (the Play answer's order). `rewrite`
   * puts the newest token in a URL. `cmcd`: the session and content ids hls.js reports.
   * `inits`: the Play answer's init segments, answered from their bytes (no request).
   */
  constructor(
    playlists: { url: string; text: string }[],
    positionSec: number,
    rewrite: (url: string) => string,
    cmcd: { sid: string; cid: string },
    inits: readonly { url: string; data: string }[] = [],
  ) {
    const inHand = initsInHand(inits);
    for (const { url, request } of startRequests(playlists, positionSec, rewrite, cmcd)) {
      const start = performance.now();
      const data = inHand.get(url);
      if (data) {
        this.pending.set(url, Promise.resolve({ data, start, first: start, end: start }));
        continue;
      }
      const fetched = fetch(request).then(async (res) => {
        if (!res.ok) throw new Error(`prefetch ${res.status}`);
        const first = performance.now();
        const data = await res.arrayBuffer();
        return { data, start, first, end: performance.now() };
      });
      // Unused or failed, it is simply not there: hls.js loads it itself.
      fetched.catch(() => this.pending.delete(url));
      this.pending.set(url, fetched);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * The prefetch of `url`, once: later requests for it (a seek back, a retry) load normally.
   * Except for what the first frame read (`peek`): hls.js, taking that MediaSource over,
   * loads the start segment twice (once to learn the tracks, once more because the buffer
   * the first frame left ends a microsecond short of the segment's end), so those few files
   * stay in memory for the stream, and none of them is fetched twice.
   */
  take(url: string): Promise<Prefetched> | undefined {
    const found = this.pending.get(url);
    if (!found) return undefined;
    if (!this.used.includes(url)) this.used.push(url);
    if (!this.kept.has(url)) this.pending.delete(url);
    return found;
  }

  /** The prefetch of `url` for the first frame (./first-frame.ts), kept for hls.js's `take`s. */
  peek(url: string): Promise<Prefetched> | undefined {
    const found = this.pending.get(url);
    if (found) {
      this.kept.add(url);
      if (!this.used.includes(url)) this.used.push(url);
    }
    return found;
  }
}
