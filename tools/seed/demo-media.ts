// Uploads a packaged asset's files into R2, skipping files already there intact, and the
// rendition index last: an asset without its index.json is invisible to the media Worker,
// so an interrupted seed never leaves a half-playable asset.
import { contentTypeFor, mediaKeys } from "../../lib/media-layout.ts";
import type { RenditionIndex } from "../../lib/media-index.ts";

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
