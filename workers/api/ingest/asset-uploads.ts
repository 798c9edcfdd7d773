// Uploading a packaged asset: its rendition index first (as a draft), then its files
// straight into R2 (each verified against the index's SHA-256), then a publish step that
// checks every file and only then writes the index where the media Worker looks. Until
// then nothing of the asset is visible to viewers.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { assets, episodes, seasons, titles } from "../../../d1/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import { hex } from "../../../lib/hex.ts";
import { contentTypeFor, mediaKeys } from "../../../lib/media-layout.ts";
import { assetExtras, renditionIndexSchema, resolutionClass, type RenditionIndex } from "../../../lib/media-index.ts";

type Storage = { DB: D1Database; MEDIA: R2Bucket };

export type AssetFileStatus = { path: string; bytes: number; sha256: string; uploaded: boolean };
export type AssetStatus = {
  assetId: string;
  status: "pending" | "published";
  files: AssetFileStatus[];
  /** The movie or episodes this asset is the video of. */
  linkedTo: { titleId: string; episodeId?: string }[];
};

/** Part size the CLI should use for multipart uploads (R2 needs >= 5 MiB but the last). */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;

const draftKey = (assetId: string) => `uploads/${assetId}/index.json`;

const encoder = new TextEncoder();

/** The asset's row. A live event's asset (on now) is written by its event alone, never through uploads. */
async function assetRow(db: D1Database, assetId: string) {
  const [row] = await drizzle(db).select().from(assets).where(eq(assets.id, assetId));
  if (row?.status === "live") throw new ApiError("CONFLICT", `Asset ${assetId} is a live event on now; its recording is published when the event ends.`);
  return row as (typeof row & { status: "pending" | "published" }) | undefined;
}

async function readIndex(bucket: R2Bucket, key: string): Promise<RenditionIndex | null> {
  const object = await bucket.get(key);
  return object ? renditionIndexSchema.parse(JSON.parse(await object.text())) : null;
}

/** What R2 holds of the asset, by path: size and the SHA-256 it was verified against. */
async function uploadedFiles(bucket: R2Bucket, assetId: string): Promise<Map<string, { size: number; sha256?: string }>> {
  const prefix = mediaKeys.assetPrefix(assetId);
  const found = new Map<string, { size: number; sha256?: string }>();
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor, include: ["customMetadata"] });
    for (const object of page.objects) {
      found.set(object.key.slice(prefix.length), { size: object.size, sha256: object.customMetadata?.sha256 });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return found;
}

function isIntact(file: RenditionIndex["files"][number], stored: { size: number; sha256?: string } | undefined): boolean {
  return stored !== undefined && stored.size === file.bytes && stored.sha256 === file.sha256;
}

async function statusOf(env: Storage, assetId: string, status: AssetStatus["status"], index: RenditionIndex): Promise<AssetStatus> {
  const [stored, linkedTo] = await Promise.all([uploadedFiles(env.MEDIA, assetId), linksOf(env.DB, assetId)]);
  return {
    assetId,
    status,
    files: index.files.map((f) => ({ ...f, uploaded: isIntact(f, stored.get(f.path)) })),
    linkedTo,
  };
}

async function linksOf(db: D1Database, assetId: string): Promise<AssetStatus["linkedTo"]> {
  const orm = drizzle(db);
  const [movies, parts] = await orm.batch([
    orm.select({ titleId: titles.id }).from(titles).where(eq(titles.assetId, assetId)),
    orm
      .select({ titleId: seasons.titleId, episodeId: episodes.id })
      .from(episodes)
      .innerJoin(seasons, eq(seasons.id, episodes.seasonId))
      .where(eq(episodes.assetId, assetId)),
  ]);
  return [...movies, ...parts];
}

export async function getAssetStatus(env: Storage, assetId: string): Promise<AssetStatus> {
  const row = await assetRow(env.DB, assetId);
  if (!row) throw new ApiError("NOT_FOUND", `No asset ${assetId}.`);
  const key = row.status === "published" ? mediaKeys.index(assetId) : draftKey(assetId);
  const index = await readIndex(env.MEDIA, key);
  if (!index) throw new ApiError("CONFLICT", `Asset ${assetId} has no rendition index; send it again.`);
  return statusOf(env, assetId, row.status, index);
}

/**
 * Starts (or resumes) an upload with the asset's rendition index. A published asset is
 * immutable: the same index again is a no-op, a different one is a conflict — a
 * re-packaged video gets a new asset id, so viewers never see a mix of two packagings.
 */
export async function putDraftIndex(env: Storage, index: RenditionIndex, now: Date): Promise<AssetStatus> {
  const row = await assetRow(env.DB, index.assetId);
  const body = JSON.stringify(index);
  if (row?.status === "published") {
    const live = await env.MEDIA.get(mediaKeys.index(index.assetId));
    if (!live || (await live.text()) !== body) {
      throw new ApiError("CONFLICT", `Asset ${index.assetId} is already published with other content; package it under a new asset id.`);
    }
    return statusOf(env, index.assetId, "published", index);
  }
  await env.MEDIA.put(draftKey(index.assetId), body, { httpMetadata: { contentType: "application/json" } });
  const maxHeight = Math.max(...index.video.map((v) => resolutionClass(v)));
  await drizzle(env.DB)
    .insert(assets)
    .values({ id: index.assetId, status: "pending", durationSec: index.durationSec, maxHeight, extras: assetExtras(index), createdAt: now })
    .onConflictDoUpdate({ target: assets.id, set: { durationSec: index.durationSec, maxHeight, extras: assetExtras(index) } });
  return statusOf(env, index.assetId, "pending", index);
}

type DraftFiles = { etag: string; files: Map<string, RenditionIndex["files"][number]> };

/**
 * Parsed drafts of this isolate, by asset id. A large asset's index lists thousands of
 * files and every one of their uploads needs it: reading and parsing it each time would
 * make an upload quadratic. The R2 etag tells whether a cached copy is still the draft.
 */
const drafts = new Map<string, DraftFiles>();
const MAX_DRAFTS = 50;

/** The draft's entry for `path`, after checking the asset can still take uploads. */
async function draftFile(env: Storage, assetId: string, path: string) {
  // Publishing deletes the draft, so a draft means the asset still takes uploads.
  const head = await env.MEDIA.head(draftKey(assetId));
  if (!head) {
    const row = await assetRow(env.DB, assetId);
    if (row?.status === "published") throw new ApiError("CONFLICT", `Asset ${assetId} is published; its files cannot change.`);
    throw new ApiError("NOT_FOUND", `No asset ${assetId}; send its rendition index first.`);
  }
  let draft = drafts.get(assetId);
  if (draft?.etag !== head.etag) {
    const index = await readIndex(env.MEDIA, draftKey(assetId));
    if (!index) throw new ApiError("NOT_FOUND", `No asset ${assetId}; send its rendition index first.`);
    draft = { etag: head.etag, files: new Map(index.files.map((f) => [f.path, f])) };
    if (drafts.size >= MAX_DRAFTS) drafts.delete(drafts.keys().next().value!);
    drafts.set(assetId, draft);
  }
  const file = draft.files.get(path);
  if (!file) throw new ApiError("NOT_FOUND", `${path} is not a file of asset ${assetId}'s rendition index.`);
  return file;
}

function isChecksumError(err: unknown): boolean {
  return /sha-?256|checksum|digest/i.test(String(err));
}

/** Streams one file into R2; R2 itself refuses bytes that do not hash to the index's SHA-256. */
export async function putFile(env: Storage, assetId: string, path: string, body: ReadableStream | null, length: number | null): Promise<void> {
  const file = await draftFile(env, assetId, path);
  if (length !== file.bytes) throw new ApiError("BAD_REQUEST", `Content-Length must be ${file.bytes} for ${path}.`);
  if (!body) throw new ApiError("BAD_REQUEST", "The request has no body.");
  try {
    await env.MEDIA.put(mediaKeys.file(assetId, path), body, {
      sha256: file.sha256,
      customMetadata: { sha256: file.sha256 },
      httpMetadata: { contentType: contentTypeFor(path) },
    });
  } catch (err) {
    if (isChecksumError(err)) throw new ApiError("CHECKSUM_MISMATCH", `${path} does not match its SHA-256 in the rendition index.`);
    throw err;
  }
}

export async function createMultipartUpload(env: Storage, assetId: string, path: string): Promise<{ uploadId: string; partBytes: number }> {
  const file = await draftFile(env, assetId, path);
  const upload = await env.MEDIA.createMultipartUpload(mediaKeys.file(assetId, path), {
    // Marked with the expected hash now; `completeMultipartUpload` deletes it unless it matches.
    customMetadata: { sha256: file.sha256 },
    httpMetadata: { contentType: contentTypeFor(path) },
  });
  return { uploadId: upload.uploadId, partBytes: MULTIPART_PART_BYTES };
}

/**
 * R2's refusal of a resumed multipart upload, as the API's error: an upload id R2 does not
 * know (never issued, already completed or aborted) is NoSuchUpload (10024) — and, on
 * complete and abort, an internal error (10001) in the local runtime — and parts that do
 * not make up the upload are InvalidPart, EntityTooSmall or BadUpload. Either way the
 * caller's remedy is to start the file's upload again, never a 500.
 */
function multipartRefusal(err: unknown, operation: "part" | "complete" | "abort", target: { path: string; uploadId: string }): unknown {
  const code = /\((\d{5,6})\)\s*$/.exec(String(err))?.[1];
  if (code === "10024" || (code === "10001" && operation !== "part")) {
    return new ApiError("NOT_FOUND", `No multipart upload ${target.uploadId.slice(0, 80)} is in progress for ${target.path}; start one again.`);
  }
  if (code === "10025" || code === "10011" || code === "10048") {
    return new ApiError("BAD_REQUEST", `The parts do not make up ${target.path}: each but the last must be the same size, at least 5 MiB, with the etags uploadPart returned.`);
  }
  return err;
}

export async function uploadPart(
  env: Storage,
  target: { assetId: string; path: string; uploadId: string; partNumber: number },
  body: ReadableStream | null,
): Promise<{ partNumber: number; etag: string }> {
  await draftFile(env, target.assetId, target.path);
  if (!body) throw new ApiError("BAD_REQUEST", "The request has no body.");
  const upload = env.MEDIA.resumeMultipartUpload(mediaKeys.file(target.assetId, target.path), target.uploadId);
  try {
    const part = await upload.uploadPart(target.partNumber, body);
    return { partNumber: part.partNumber, etag: part.etag };
  } catch (err) {
    throw multipartRefusal(err, "part", target);
  }
}

export async function completeMultipartUpload(
  env: Storage,
  target: { assetId: string; path: string; uploadId: string },
  parts: R2UploadedPart[],
): Promise<void> {
  const file = await draftFile(env, target.assetId, target.path);
  const key = mediaKeys.file(target.assetId, target.path);
  try {
    await env.MEDIA.resumeMultipartUpload(key, target.uploadId).complete(parts);
  } catch (err) {
    throw multipartRefusal(err, "complete", target);
  }
  // R2 cannot check a whole-object hash on multipart uploads: read it back once and check.
  const object = await env.MEDIA.get(key);
  let actual = "";
  if (object) {
    const digest = new crypto.DigestStream("SHA-256");
    await object.body.pipeTo(digest);
    actual = hex(await digest.digest);
  }
  if (object?.size !== file.bytes || actual !== file.sha256) {
    await env.MEDIA.delete(key);
    throw new ApiError("CHECKSUM_MISMATCH", `${target.path} does not match its size and SHA-256 in the rendition index; upload it again.`);
  }
}

export async function abortMultipartUpload(env: Storage, target: { assetId: string; path: string; uploadId: string }): Promise<void> {
  // Like every other upload step: only a file of a draft that still takes uploads.
  await draftFile(env, target.assetId, target.path);
  try {
    await env.MEDIA.resumeMultipartUpload(mediaKeys.file(target.assetId, target.path), target.uploadId).abort();
  } catch (err) {
    throw multipartRefusal(err, "abort", target);
  }
}

/**
 * Checks that every file of the draft index is in R2 intact, then writes the index where
 * the media Worker reads it: the one step that makes the asset playable. Publishing a
 * published asset again changes nothing.
 */
export async function publishAsset(env: Storage, assetId: string, now: Date): Promise<RenditionIndex> {
  const row = await assetRow(env.DB, assetId);
  if (!row) throw new ApiError("NOT_FOUND", `No asset ${assetId}.`);
  const draft = await readIndex(env.MEDIA, row.status === "published" ? mediaKeys.index(assetId) : draftKey(assetId));
  if (!draft) throw new ApiError("CONFLICT", `Asset ${assetId} has no rendition index; send it again.`);
  const stored = await uploadedFiles(env.MEDIA, assetId);
  const missing = draft.files.filter((f) => !isIntact(f, stored.get(f.path))).map((f) => f.path);
  if (missing.length > 0) {
    throw new ApiError("CONFLICT", `${missing.length} of ${draft.files.length} files are not uploaded intact yet.`, {
      details: { missing: missing.slice(0, 20), count: missing.length },
    });
  }
  if (row.status !== "published") {
    await env.MEDIA.put(mediaKeys.index(assetId), encoder.encode(JSON.stringify(draft)), {
      httpMetadata: { contentType: "application/json" },
    });
    await drizzle(env.DB).update(assets).set({ status: "published", publishedAt: now }).where(eq(assets.id, assetId));
    await env.MEDIA.delete(draftKey(assetId));
  }
  return draft;
}
