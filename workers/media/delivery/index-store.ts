// Loads assets' rendition indexes: from isolate memory, else the Cache API, else R2 —
// so a warm request does no I/O at all. Indexes change only when an asset is published
// again, so a short TTL bounds how long a takedown or re-publish takes to show.
import { mediaKeys } from "../../../lib/media-layout.ts";
import { renditionIndexSchema, type RenditionIndex } from "../../../lib/media-index.ts";
import { SingleFlight } from "./single-flight.ts";

export type FileInfo = { bytes: number; sha256: string };

export type LoadedIndex = {
  index: RenditionIndex;
  /** Every file of the asset by its path relative to the asset folder. */
  files: Map<string, FileInfo>;
};

const TTL_MS = 60_000;
const MAX_ENTRIES = 500;

type Entry = { value: LoadedIndex; expires: number };

export class IndexStore {
  readonly #memory = new Map<string, Entry>();
  readonly #flight = new SingleFlight<LoadedIndex | null>();

  /** `cacheOrigin` prefixes the canonical Cache API key (an origin this Worker serves). */
  async get(bucket: R2Bucket, cache: Cache, cacheOrigin: string, assetId: string, waitUntil: (p: Promise<unknown>) => void): Promise<LoadedIndex | null> {
    const now = Date.now();
    const hit = this.#memory.get(assetId);
    if (hit && hit.expires > now) return hit.value;
    return this.#flight.run(assetId, async () => {
      const value = await load(bucket, cache, cacheOrigin, assetId, waitUntil);
      // A missing asset is not remembered: it may be published a moment later, and only a
      // valid token (minted for real assets) gets this far, so misses cannot be abused.
      if (value) this.#remember(assetId, value);
      return value;
    });
  }

  #remember(assetId: string, value: LoadedIndex): void {
    if (this.#memory.size >= MAX_ENTRIES) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.#memory.keys().next().value;
      if (oldest !== undefined) this.#memory.delete(oldest);
    }
    this.#memory.delete(assetId);
    this.#memory.set(assetId, { value, expires: Date.now() + TTL_MS });
  }
}

async function load(bucket: R2Bucket, cache: Cache, cacheOrigin: string, assetId: string, waitUntil: (p: Promise<unknown>) => void): Promise<LoadedIndex | null> {
  const cacheKey = `${cacheOrigin}/__media-cache/${mediaKeys.index(assetId)}`;
  const cached = await cache.match(cacheKey);
  if (cached) return loaded(await cached.text());
  // Like a segment's, a failed index read is tried once more before the viewer gets a 503.
  const read = () => bucket.get(mediaKeys.index(assetId));
  const object = await read().catch(async () => {
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    return read();
  });
  if (!object) return null;
  const text = await object.text();
  const value = loaded(text);
  waitUntil(
    cache.put(
      cacheKey,
      new Response(text, { headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${TTL_MS / 1000}` } }),
    ),
  );
  return value;
}

function loaded(text: string): LoadedIndex {
  const index = renditionIndexSchema.parse(JSON.parse(text));
  return { index, files: new Map(index.files.map((f) => [f.path, { bytes: f.bytes, sha256: f.sha256 }])) };
}
