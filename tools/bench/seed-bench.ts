// Builds the benchmark's synthetic assets and uploads them into a bench state dir's local R2, the way `npm run seed` does.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { getPlatformProxy, unstable_readConfig } from "wrangler";
import { syntheticAsset, type SyntheticAsset } from "../../test-support/synthetic-asset.ts";
import { seedReplicated } from "../seed/demo-media.ts";
import { mediaConfig } from "../project.ts";

export const MB = 1_000_000;

/** What each measurement needs: one asset per object size, so each token and cache key stands alone. */
export const benchAssets = {
  /** Segment 1 is the throughput target; 2..4 stay cold for the thundering-herd trials. */
  segments: { id: "bench-segments", segments: 4, segmentBytes: 1 * MB },
  small: { id: "bench-small", segments: 1, segmentBytes: 2 * MB },
  /** Under CACHE_MAX_BYTES, so through the cache and the tee: two files, each cold once on each media dev server. */
  mid: { id: "bench-mid", segments: 2, segmentBytes: 40 * MB },
  /** Over CACHE_MAX_BYTES: streams straight from R2. */
  large: { id: "bench-large", segments: 1, segmentBytes: 200 * MB },
} as const;

export type BenchAssetName = keyof typeof benchAssets;
export type BenchAssets = Record<BenchAssetName, SyntheticAsset>;

/**
 * A config with only the media Worker's R2 binding: the platform proxy then hosts nothing
 * but the bucket, and the dev server later opens the same persisted bucket.
 */
async function storageOnlyConfig(stateDir: string): Promise<string> {
  const config = unstable_readConfig({ config: mediaConfig });
  const file = path.join(stateDir, "seed.wrangler.json");
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, JSON.stringify({ name: "marquee-bench-seed", compatibility_date: config.compatibility_date, r2_buckets: config.r2_buckets }));
  return file;
}

export async function buildBenchAssets(): Promise<BenchAssets> {
  const built = {} as BenchAssets;
  for (const [name, spec] of Object.entries(benchAssets) as [BenchAssetName, (typeof benchAssets)[BenchAssetName]][]) {
    built[name] = await syntheticAsset(spec.id, { heights: [240], audio: false, extras: false, segments: spec.segments, segmentBytes: spec.segmentBytes });
  }
  return built;
}

/** Must run before the dev server starts: two runtimes must not open one persisted bucket at once. */
/**
 * Each asset into the primary bucket and the replica, with the record saying the replica
 * is complete (lib/media-origins/replicas.ts): the media Worker then serves it as a
 * published asset on two pathways, with steering in its manifests and the replica behind
 * every miss, as in production (docs/media-origin.md).
 */
export async function uploadBenchAssets(persistTo: string, assets: SyntheticAsset[]): Promise<void> {
  const { env, dispose } = await getPlatformProxy<{ MEDIA: R2Bucket; MEDIA_REPLICA: R2Bucket }>({
    configPath: await storageOnlyConfig(persistTo),
    persist: { path: path.join(persistTo, "v3") },
    remoteBindings: false,
    envFiles: [],
  });
  try {
    for (const asset of assets) await seedReplicated(env.MEDIA, [{ pathway: "p2", bucket: env.MEDIA_REPLICA }], asset);
  } finally {
    await dispose();
  }
}
