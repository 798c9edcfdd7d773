// Replication at publish: every file of a published asset copied from the primary bucket to
// each replica (lib/media-origins/), in the index's order, a bounded number per publish
// call, each put verified by the origin against the file's SHA-256. A replica is complete
// once it has every file and then its index.json; the record of which replicas are
// complete (`assets/{id}/replicas.json`) is then written to every origin, and only then do
// the media Worker's manifests offer that pathway. Progress is kept in D1
// (`asset_replicas`), so `POST …/publish` again carries on where the last call stopped;
// `npm run ingest` calls it until every replica is complete. docs/media-origin.md.
import { and, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { assetReplicas } from "../../../d1/schema.ts";
import { isDependencyError } from "../../../lib/bindings/guard.ts";
import { ApiError } from "../../../lib/errors.ts";
import { contentTypeFor, mediaKeys } from "../../../lib/media-layout.ts";
import type { RenditionIndex } from "../../../lib/media-index.ts";
import { mediaOrigins, type MediaOrigin, type OriginEnv } from "../../../lib/media-origins/origins.ts";
import type { ReplicaRecord } from "../../../lib/media-origins/replicas.ts";
import { sha256Hex } from "../../../lib/hex.ts";

/**
 * Files copied per replica per publish call: each copy is two subrequests (a read and a
 * write), well inside a Worker's subrequest budget with the D1 writes beside them.
 */
export const FILES_PER_CALL = 200;
/** Copies at once. */
const CONCURRENCY = 6;

export type ReplicaStatus = { pathway: string; filesDone: number; filesTotal: number; bytesDone: number; complete: boolean; error?: string };

type Env = OriginEnv & { DB: D1Database; MEDIA: R2Bucket };

const encoder = new TextEncoder();


/** Copies one file from the primary to a replica, streamed, checked there against its hash. */
async function copyFile(primary: MediaOrigin, replica: MediaOrigin, assetId: string, file: RenditionIndex["files"][number]): Promise<void> {
  const key = mediaKeys.file(assetId, file.path);
  const body = await primary.get(key);
  if (!body) throw new ApiError("CONFLICT", `${file.path} is listed in the index of ${assetId} but missing from the primary bucket.`);
  await replica.put(key, body, { bytes: file.bytes, sha256: file.sha256, contentType: contentTypeFor(file.path) });
}

/**
 * Carries each replica of a published asset on by up to `filesPerCall` files, and finishes
 * the ones that get to the end. The asset is playable from the primary throughout.
 */
export async function replicateAsset(env: Env, index: RenditionIndex, now: Date, filesPerCall = FILES_PER_CALL): Promise<ReplicaStatus[]> {
  const [primary, ...replicas] = mediaOrigins(env).all;
  if (!primary || replicas.length === 0) return [];
  const db = drizzle(env.DB);
  const { assetId } = index;
  const total = index.files.length;
  const rows = await db.select().from(assetReplicas).where(eq(assetReplicas.assetId, assetId));
  const statuses: ReplicaStatus[] = [];
  for (const replica of replicas) {
    const row = rows.find((r) => r.pathway === replica.pathway);
    if (row?.completedAt) {
      statuses.push({ pathway: replica.pathway, filesDone: total, filesTotal: total, bytesDone: row.bytesDone, complete: true });
      continue;
    }
    const start = Math.min(row?.filesDone ?? 0, total);
    let done = start;
    let bytes = row?.bytesDone ?? 0;
    let error: string | undefined;
    try {
      const end = Math.min(total, done + filesPerCall);
      for (let at = done; at < end; at += CONCURRENCY) {
        const chunk = index.files.slice(at, Math.min(end, at + CONCURRENCY));
        await Promise.all(chunk.map((file) => copyFile(primary, replica, assetId, file)));
        done = at + chunk.length;
        bytes += chunk.reduce((n, f) => n + f.bytes, 0);
      }
      if (done === total) await finishReplica(primary, replica, assetId);
    } catch (err) {
      // A failing replica (or primary) stops this replica's copy for now; the asset stays
      // published and playable, and the next publish call carries on from `done`. So does
      // a file the replica refuses for its hash: damaged on the primary, it is never copied
      // as it is, and the response says which.
      const message = (err as Error)?.message ?? String(err);
      if (!isDependencyError(err) && !/sha-?256|checksum|digest/i.test(message)) throw err;
      error = message.slice(0, 500);
    }
    const complete = done === total && error === undefined;
    // Concurrent publish calls copy the same files again (puts of the same bytes): harmless,
    // and the progress only ever moves forward.
    await db
      .insert(assetReplicas)
      .values({ assetId, pathway: replica.pathway, filesDone: done, filesTotal: total, bytesDone: bytes, completedAt: complete ? now : null, updatedAt: now })
      .onConflictDoUpdate({
        target: [assetReplicas.assetId, assetReplicas.pathway],
        set: {
          filesDone: sql`max(${assetReplicas.filesDone}, excluded.files_done)`,
          bytesDone: sql`max(${assetReplicas.bytesDone}, excluded.bytes_done)`,
          filesTotal: total,
          completedAt: sql`coalesce(${assetReplicas.completedAt}, excluded.completed_at)`,
          updatedAt: now,
        },
      });
    statuses.push({ pathway: replica.pathway, filesDone: done, filesTotal: total, bytesDone: bytes, complete, ...(error ? { error } : {}) });
  }
  const complete = statuses.filter((s) => s.complete).map((s) => s.pathway).sort();
  if (complete.length > 0) await writeRecord(assetId, [primary, ...replicas], complete);
  return statuses;
}

/** The replica's own index.json (it can serve the asset alone) and its skip segments, after every file. */
async function finishReplica(primary: MediaOrigin, replica: MediaOrigin, assetId: string): Promise<void> {
  for (const key of [mediaKeys.skipSegments(assetId), mediaKeys.index(assetId)]) {
    const text = await primary.text(key);
    if (text === null) continue;
    const bytes = encoder.encode(text);
    await replica.put(key, bytes, { bytes: bytes.byteLength, sha256: await sha256Hex(bytes), contentType: "application/json" });
  }
}

/**
 * The record of the complete replicas, written to every origin where it is not already so
 * (one read of each when nothing changed). The primary's copy must land: the media Worker
 * reads it first. A replica that cannot be written now is written by a later call.
 */
async function writeRecord(assetId: string, origins: MediaOrigin[], complete: string[]): Promise<void> {
  const record: ReplicaRecord = { version: 1, complete };
  const text = JSON.stringify(record);
  const bytes = encoder.encode(text);
  const sha256 = await sha256Hex(bytes);
  const key = mediaKeys.replicas(assetId);
  const written = await Promise.allSettled(
    origins.map(async (o) => {
      if ((await o.text(key)) === text) return;
      await o.put(key, bytes, { bytes: bytes.byteLength, sha256, contentType: "application/json" });
    }),
  );
  if (written[0]!.status === "rejected") throw written[0]!.reason;
}

/** Where each replica of an asset stands (for the asset's status). */
export async function replicaStatuses(env: Env, assetId: string, filesTotal: number): Promise<ReplicaStatus[]> {
  const replicas = mediaOrigins(env).all.slice(1);
  if (replicas.length === 0) return [];
  const rows = await drizzle(env.DB).select().from(assetReplicas).where(eq(assetReplicas.assetId, assetId));
  return replicas.map((replica) => {
    const row = rows.find((r) => r.pathway === replica.pathway);
    return { pathway: replica.pathway, filesDone: row?.completedAt ? filesTotal : (row?.filesDone ?? 0), filesTotal, bytesDone: row?.bytesDone ?? 0, complete: Boolean(row?.completedAt) };
  });
}
