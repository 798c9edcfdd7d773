// Where an asset is complete beyond the primary: `assets/{id}/replicas.json`, written by
// the publish step (workers/api/ingest/replicate.ts) to every origin once a replica holds
// every file of the asset. The media Worker reads it beside the index and offers only those
// pathways in manifests and fallbacks; without it an asset is served from the primary alone.
import { z } from "zod";
import { MAX_PATHWAYS, PATHWAY_ID, PRIMARY_PATHWAY } from "./pathways.ts";

export const replicaRecordSchema = z
  .object({
    version: z.literal(1),
    /** Replica pathways holding every file of the asset (never the primary: it always does). */
    complete: z
      .array(z.string().regex(PATHWAY_ID).refine((id) => id !== PRIMARY_PATHWAY))
      .max(MAX_PATHWAYS - 1)
      .refine((ids) => new Set(ids).size === ids.length, "a pathway is named twice"),
  })
  .strict();

export type ReplicaRecord = z.infer<typeof replicaRecordSchema>;

/** The record's text, or null for one that is not a record (read as none: primary only). */
export function parseReplicaRecord(text: string): ReplicaRecord | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = replicaRecordSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}
