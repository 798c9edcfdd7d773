// Loads assets' rendition indexes: from isolate memory, else the Cache API, else R2 —
// so a warm request does no I/O at all. Indexes change only when an asset is published
// again, so a short TTL bounds how long a takedown or re-publish takes to show. A live
// event's asset has live.json instead (lib/live/live-state.ts), kept for half a segment:
// within a location every viewer's playlist comes from one read of it per half segment
// (the Cache API across isolates, one flight within each), however many viewers there are.
//
// An on-demand asset's skip segments (skip-segments.json, lib/skip-segments.ts) are loaded
// with its index, read beside it in parallel and kept as long; most assets have none, and
// that absence is cached too, so it costs one R2 read per TTL like the index. An operator's
// edit shows within the TTL of this isolate's copy plus the Cache API's max-age (each 60 s:
// at most two minutes), and a player sees it when it next loads the manifests.
import { mediaKeys } from "../../../lib/media-layout.ts";
import { renditionIndexSchema, type RenditionIndex } from "../../../lib/media-index.ts";
import { LIVE_ID, liveStateSchema, type LiveState } from "../../../lib/live/live-state.ts";
import { log } from "../../../lib/log.ts";
import { PRIMARY_PATHWAY } from "../../../lib/media-origins/pathways.ts";
import { parseReplicaRecord } from "../../../lib/media-origins/replicas.ts";
import type { MediaOrigin } from "../../../lib/media-origins/origins.ts";
import { publishedSkipSegmentsSchema, type PublishedSkipSegments } from "../../../lib/skip-segments.ts";
import { SingleFlight } from "./single-flight.ts";

/** `etag` when the file has no content hash to hand (a live segment: its number and size name it, published once). */
export type FileInfo = { bytes: number; sha256: string; etag?: string };

export type LoadedIndex = {
  index: RenditionIndex;
  /** Every file of the asset by its path relative to the asset folder. */
  files: Map<string, FileInfo>;
  /** A live event on now: its timeline's window, which `index` describes the tracks of. */
  live: LiveState | null;
  /** The spans a viewer may skip, in the manifests; none for most assets, and for a live window. */
  skip: PublishedSkipSegments["segments"];
  /**
   * The pathways the asset is complete on, the primary first (lib/media-origins/replicas.ts):
   * those offered in its manifests and tried for its files. A live event: the primary alone.
   */
  pathways: string[];
};

/** How long an isolate keeps an on-demand index (and the Cache API its copy, as max-age). */
export const TTL_MS = 60_000;
const MAX_ENTRIES = 500;

type Entry = { value: LoadedIndex; expires: number };

export type IndexSource = "memory" | "flight" | "cache" | "r2";

/** How long a live state is kept: half a segment, so a playlist is at most that much behind. */
export function liveTtlMs(state: LiveState): number {
  return Math.max(500, (state.targetDurationSec * 1000) / 2);
}

export class IndexStore {
  readonly #memory = new Map<string, Entry>();
  readonly #flight = new SingleFlight<LoadedIndex | null>();

  /** `cacheOrigin` prefixes the canonical Cache API key (an origin this Worker serves). */
  /**
   * `onSource` learns where this request's copy came from: isolate memory, another request's
   * read in flight, the Cache API, or R2 (live manifests say so in X-Live-State; bench:live counts them).
   */
  async get(
    origins: readonly MediaOrigin[],
    cache: Cache,
    cacheOrigin: string,
    assetId: string,
    waitUntil: (p: Promise<unknown>) => void,
    onSource: (source: IndexSource) => void = () => undefined,
  ): Promise<LoadedIndex | null> {
    const now = Date.now();
    const hit = this.#memory.get(assetId);
    if (hit && hit.expires > now) {
      onSource("memory");
      return hit.value;
    }
    if (this.#flight.pending(assetId)) onSource("flight");
    return this.#flight.run(assetId, async () => {
      const value = await load(origins, cache, cacheOrigin, assetId, waitUntil, onSource);
      // A missing asset is not remembered: it may be published a moment later, and only a
      // valid token (minted for real assets) gets this far, so misses cannot be abused.
      if (value) this.#remember(assetId, value);
      return value;
    });
  }

  #remember(assetId: string, value: LoadedIndex): void {
    const ttl = value.live ? liveTtlMs(value.live) : TTL_MS;
    if (this.#memory.size >= MAX_ENTRIES) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.#memory.keys().next().value;
      if (oldest !== undefined) this.#memory.delete(oldest);
    }
    this.#memory.delete(assetId);
    this.#memory.set(assetId, { value, expires: Date.now() + ttl });
  }
}

async function load(
  origins: readonly MediaOrigin[],
  cache: Cache,
  cacheOrigin: string,
  assetId: string,
  waitUntil: (p: Promise<unknown>) => void,
  onSource: (source: IndexSource) => void,
): Promise<LoadedIndex | null> {
  const cacheKey = (key: string) => `${cacheOrigin}/__media-cache/${key}`;
  const indexKey = cacheKey(mediaKeys.index(assetId));
  const liveKey = cacheKey(mediaKeys.live(assetId));
  const skipKey = cacheKey(mediaKeys.skipSegments(assetId));
  const replicasKey = cacheKey(mediaKeys.replicas(assetId));
  const mayBeLive = LIVE_ID.test(assetId);
  // With no replica configured there is no record to read.
  const replicated = origins.length > 1;
  const [cachedLive, cachedIndex, cachedSkip, cachedReplicas] = await Promise.all([
    mayBeLive ? cache.match(liveKey) : undefined,
    cache.match(indexKey),
    cache.match(skipKey),
    replicated ? cache.match(replicasKey) : undefined,
  ]);
  if (cachedLive || cachedIndex) onSource("cache");
  if (cachedLive) {
    await Promise.all([cachedIndex?.body?.cancel(), cachedSkip?.body?.cancel(), cachedReplicas?.body?.cancel()]);
    return loadedLive(await cachedLive.text());
  }
  if (!cachedIndex) onSource("r2");
  // A live event's state first: while it is on, its asset has no index.json, and when it
  // ends the object writes index.json before it deletes live.json.
  // Live events are written to the primary alone.
  const liveText = mayBeLive && !cachedIndex ? await readText(origins.slice(0, 1), mediaKeys.live(assetId)) : null;
  if (liveText !== null) {
    await Promise.all([cachedSkip?.body?.cancel(), cachedReplicas?.body?.cancel()]);
    const value = loadedLive(liveText);
    const maxAge = Math.ceil(liveTtlMs(value.live!) / 1000);
    waitUntil(cache.put(liveKey, jsonResponse(liveText, maxAge)));
    return value;
  }
  // Each from the cache if it is there, else from the origins: all at once.
  const [text, skip, replicas] = await Promise.all([
    cachedIndex ? cachedIndex.text() : readText(origins, mediaKeys.index(assetId)),
    cachedSkip ? cachedSkip.text().then((json) => parseSkip(json, assetId)) : readSkip(origins, assetId),
    !replicated ? { text: "", cacheable: false } : cachedReplicas ? cachedReplicas.text().then((t) => ({ text: t, cacheable: false })) : readReplicas(origins, assetId),
  ]);
  if (text === null) return null;
  const value = loaded(text, skip.segments, completePathways(origins, replicas.text));
  if (!cachedIndex) waitUntil(cache.put(indexKey, jsonResponse(text, TTL_MS / 1000)));
  if (replicas.cacheable) waitUntil(cache.put(replicasKey, jsonResponse(replicas.text, TTL_MS / 1000)));
  // What R2 had, in the schema's own form (an absent or malformed object: none), unless the
  // read failed: the next load tries R2 again.
  if (!cachedSkip && skip.cacheable) {
    const published: PublishedSkipSegments = { version: 1, segments: skip.segments };
    waitUntil(cache.put(skipKey, jsonResponse(JSON.stringify(published), TTL_MS / 1000)));
  }
  return value;
}

function jsonResponse(text: string, maxAgeSec: number): Response {
  return new Response(text, { headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${maxAgeSec}` } });
}

type LoadedSkip = { segments: PublishedSkipSegments["segments"]; cacheable: boolean };

/**
 * An asset's skip segments from R2: none when there is no such object. They only add to
 * the manifests, so no fault of theirs may cost the viewer playback: a malformed object
 * counts as none (and is cached as none, like an absent one), a failed read as none for now.
 */
async function readSkip(origins: readonly MediaOrigin[], assetId: string): Promise<LoadedSkip> {
  try {
    const text = await readText(origins, mediaKeys.skipSegments(assetId));
    return text === null ? { segments: [], cacheable: true } : parseSkip(text, assetId);
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: "", dependency: "r2", message: `skip segments of ${assetId}, served without them: ${err}` });
    return { segments: [], cacheable: false };
  }
}

function parseSkip(text: string, assetId: string): LoadedSkip {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = publishedSkipSegmentsSchema.safeParse(json);
  if (parsed.success) return { segments: parsed.data.segments, cacheable: true };
  const problem = json === undefined ? "not JSON" : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  log("warn", { event: "dependency_failed", requestId: "", dependency: "r2", message: `${mediaKeys.skipSegments(assetId)} is not valid, served as none: ${problem}`.slice(0, 500) });
  return { segments: [], cacheable: true };
}

/**
 * An asset's replica record as text ("" for none: the primary alone), and whether it may be
 * cached; a failed read serves from the primary alone for now and tries again next load.
 */
async function readReplicas(origins: readonly MediaOrigin[], assetId: string): Promise<{ text: string; cacheable: boolean }> {
  try {
    return { text: (await readText(origins, mediaKeys.replicas(assetId))) ?? "", cacheable: true };
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: "", dependency: "r2", message: `replicas of ${assetId}, served from the primary alone: ${err}` });
    return { text: "", cacheable: false };
  }
}

/** The primary, then each configured replica the record says holds the whole asset. */
function completePathways(origins: readonly MediaOrigin[], recordText: string): string[] {
  const record = recordText === "" ? null : parseReplicaRecord(recordText);
  const complete = new Set(record?.complete ?? []);
  return origins.filter((o, i) => i === 0 || complete.has(o.pathway)).map((o) => o.pathway);
}

/**
 * An object from the first origin that answers, the primary first: like a segment's, a
 * failed read is tried once more, then the next origin is asked. The primary's "no such
 * object" is the answer (an asset not published is not served from a replica); a
 * replica's is believed only if every origin before it failed and none has it, and then
 * the primary's failure is what the caller sees (a retryable 503, not a 404).
 */
async function readText(origins: readonly MediaOrigin[], key: string): Promise<string | null> {
  let firstFailure: unknown;
  for (const [i, origin] of origins.entries()) {
    // At debug level every R2 read is visible from outside (the benchmarks count them).
    log("debug", { event: "r2_read", key, range: false });
    const read = () => origin.text(key);
    try {
      const text = await read().catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
        return read();
      });
      if (firstFailure === undefined) return text;
      if (text !== null) {
        log("warn", { event: "origin_fallback", requestId: "", from: origins[0]!.pathway, to: origin.pathway, key });
        return text;
      }
    } catch (err) {
      firstFailure ??= err;
    }
  }
  if (firstFailure !== undefined) throw firstFailure;
  return null;
}

function loaded(text: string, skip: PublishedSkipSegments["segments"], pathways: string[]): LoadedIndex {
  const index = renditionIndexSchema.parse(JSON.parse(text));
  return { index, files: new Map(index.files.map((f) => [f.path, { bytes: f.bytes, sha256: f.sha256 }])), live: null, skip, pathways };
}

/** A live state as an index of its window (what the manifest builders take), and the files it lists. */
function loadedLive(text: string): LoadedIndex {
  const live = liveStateSchema.parse(JSON.parse(text));
  const files = new Map<string, FileInfo>();
  for (const track of [...live.video, ...live.audio]) {
    files.set(`${track.id}/init.m4s`, { bytes: track.init.bytes, sha256: track.init.sha256 });
    const { startNumber, bytes } = track.segments;
    bytes.forEach((size, i) => {
      const n = startNumber + i;
      // A gap has no file: a request for it is a 404, as for any file the index does not list.
      if (size > 0) files.set(`${track.id}/${n}.m4s`, { bytes: size, sha256: "", etag: `"live-${n}-${size}"` });
    });
  }
  const seconds = (track: LiveState["video"][number]) => track.segments.durations.reduce((a, b) => a + b, 0) / track.segments.timescale;
  const index: RenditionIndex = {
    version: 1,
    assetId: live.assetId,
    durationSec: seconds(live.video[0]!),
    segmentDurationSec: live.targetDurationSec,
    video: live.video,
    audio: live.audio,
    subtitles: [],
    thumbnails: null,
    poster: null,
    files: [],
  };
  return { index, files, live, skip: [], pathways: [PRIMARY_PATHWAY] };
}
