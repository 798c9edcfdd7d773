// Uploads a packaged asset's files into R2, skipping files already there intact, and the
// rendition index last: an asset without its index.json is invisible to the media Worker,
// so an interrupted seed never leaves a half-playable asset. With replicas, the same in each,
// and the record that they are complete last of all.
import { contentTypeFor, mediaKeys } from "../../lib/media-layout.ts";
import type { RenditionIndex } from "../../lib/media-index.ts";
import { parsePathways } from "../../lib/media-origins/pathways.ts";
import type { ReplicaRecord } from "../../lib/media-origins/replicas.ts";

export type AssetFiles = {
  index: RenditionIndex;
  /** The exact bytes of index.json as packaged. */
  indexBytes: Uint8Array;
  /** Reads one file named in `index.files`. */
  read: (path: string) => Promise<Uint8Array>;
};

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function putIfChanged(bucket: R2Bucket, key: string, bytes: Uint8Array, sha256: string): Promise<boolean> {
  const existing = await bucket.head(key);
  if (existing && existing.size === bytes.byteLength && existing.customMetadata?.sha256 === sha256) return false;
  await bucket.put(key, bytes, {
    httpMetadata: { contentType: contentTypeFor(key) },
    customMetadata: { sha256 },
    sha256, // R2 rejects the write if the bytes do not hash to this
  });
  return true;
}

export async function seedAsset(bucket: R2Bucket, asset: AssetFiles): Promise<{ uploaded: number; unchanged: number }> {
  const { assetId } = asset.index;
  let uploaded = 0;
  let unchanged = 0;
  for (const file of asset.index.files) {
    const bytes = await asset.read(file.path);
    if ((await sha256Hex(bytes)) !== file.sha256) throw new Error(`${assetId}/${file.path} does not match its sha256 in index.json`);
    if (await putIfChanged(bucket, mediaKeys.file(assetId, file.path), bytes, file.sha256)) uploaded++;
    else unchanged++;
  }
  if (await putIfChanged(bucket, mediaKeys.index(assetId), asset.indexBytes, await sha256Hex(asset.indexBytes))) uploaded++;
  else unchanged++;
  return { uploaded, unchanged };
}

/**
 * The asset copied to each replica bucket (index last there too), then the record that the
 * replicas are complete (lib/media-origins/replicas.ts) in every bucket: what publishing
 * does through the api (workers/api/ingest/replicate.ts), for local seeding and benches.
 */
export async function seedReplicated(
  primary: R2Bucket,
  replicas: { pathway: string; bucket: R2Bucket }[],
  asset: AssetFiles,
): Promise<{ uploaded: number; unchanged: number }> {
  const total = { uploaded: 0, unchanged: 0 };
  for (const bucket of [primary, ...replicas.map((r) => r.bucket)]) {
    const files = await seedAsset(bucket, asset);
    total.uploaded += files.uploaded;
    total.unchanged += files.unchanged;
  }
  if (replicas.length === 0) return total;
  const record = new TextEncoder().encode(JSON.stringify({ version: 1, complete: replicas.map((r) => r.pathway).sort() } satisfies ReplicaRecord));
  const sha256 = await sha256Hex(record);
  for (const bucket of [primary, ...replicas.map((r) => r.bucket)]) {
    if (await putIfChanged(bucket, mediaKeys.replicas(asset.index.assetId), record, sha256)) total.uploaded++;
    else total.unchanged++;
  }
  return total;
}

/**
 * The R2 replicas a config's MEDIA_REPLICAS names (lib/media-origins/pathways.ts), with
 * their buckets from `env`; S3 ones are not local and are left out (so not in the record).
 * An R2 replica whose binding `env` lacks is an error: the config names a bucket it does not bind.
 */
export function localReplicas(spec: string | undefined, env: Record<string, unknown>): { pathway: string; bucket: R2Bucket }[] {
  return parsePathways(spec)
    .slice(1)
    .flatMap((p) => {
      if (p.origin.kind !== "r2") return [];
      const bucket = env[p.origin.binding];
      if (!bucket) throw new Error(`MEDIA_REPLICAS names ${p.id}=r2:${p.origin.binding}, but no R2 bucket is bound as ${p.origin.binding}`);
      return [{ pathway: p.id, bucket: bucket as R2Bucket }];
    });
}
