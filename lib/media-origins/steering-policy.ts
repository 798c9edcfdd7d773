// The operator's say in steering (`PUT /v1/admin/steering`): a default pathway order, and
// orders for some countries. The api writes it to every origin (so it outlives any one of
// them); the media Worker reads the newest copy it can and applies it, then health: a
// pathway its breaker or error rate marks unhealthy goes to the back, whatever the policy.
import { z } from "zod";
import { mediaKeys } from "../media-layout.ts";
import type { MediaOrigin } from "./origins.ts";
import { MAX_PATHWAYS, PATHWAY_ID } from "./pathways.ts";

const order = z
  .array(z.string().regex(PATHWAY_ID))
  .min(1)
  .max(MAX_PATHWAYS)
  .refine((ids) => new Set(ids).size === ids.length, "a pathway is named twice");

/** How often a media Worker isolate reads the policy again: a PUT shows within this. */
export const POLICY_REFRESH_MS = 10_000;

export const steeringPolicySchema = z
  .object({
    /** The order for every viewer without a country of their own below. */
    priority: order.optional(),
    /** By ISO 3166 alpha-2 country (request.cf.country). */
    countries: z
      .record(z.string().regex(/^[A-Z]{2}$/), order)
      .refine((c) => Object.keys(c).length <= 250, "at most 250 countries")
      .optional(),
    /** Why, for the next operator. */
    note: z.string().max(200).optional(),
  })
  .strict();

export type SteeringPolicy = z.infer<typeof steeringPolicySchema>;

export const storedSteeringPolicySchema = z
  .object({ version: z.literal(1), updatedAt: z.iso.datetime(), policy: steeringPolicySchema })
  .strict();

export type StoredSteeringPolicy = z.infer<typeof storedSteeringPolicySchema>;

/** Every pathway a policy names. */
export function pathwaysNamed(policy: SteeringPolicy): string[] {
  return [...new Set([...(policy.priority ?? []), ...Object.values(policy.countries ?? {}).flat()])];
}

function parseStored(text: string): StoredSteeringPolicy | null {
  try {
    return storedSteeringPolicySchema.parse(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * The newest policy any origin holds, read from all at once (a write that reached only
 * some of them still wins where it landed). null: none holds one; undefined: no origin
 * answered. A copy that does not parse counts as none there.
 */
export async function readNewestPolicy(origins: readonly MediaOrigin[]): Promise<StoredSteeringPolicy | null | undefined> {
  const copies = await Promise.all(
    origins.map((origin) =>
      origin.text(mediaKeys.steeringPolicy).then(
        (text) => (text === null ? null : parseStored(text)),
        () => undefined,
      ),
    ),
  );
  const answered = copies.filter((c) => c !== undefined);
  if (answered.length === 0) return undefined;
  return answered.reduce<StoredSteeringPolicy | null>((best, c) => (c && (!best || c.updatedAt > best.updatedAt) ? c : best), null);
}
