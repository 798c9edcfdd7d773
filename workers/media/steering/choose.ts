// The pathway priority a viewer is sent: the operator's order for their country (or the
// default order, or the configured order), then health: a pathway this location sees
// failing goes to the back. Pure, so every rule is tested without a runtime.
import type { SteeringPolicy } from "../../../lib/media-origins/steering-policy.ts";

export type SteeringInput = {
  /** Pathways the asset is complete on, in configured order (the primary first). */
  complete: readonly string[];
  /** Pathways this location currently sees failing (origin-health.ts). */
  unhealthy: ReadonlySet<string>;
  /** ISO 3166 alpha-2, or "XX" when unknown. */
  country: string;
  policy: SteeringPolicy | null;
  /** How long a healthy answer is good for. */
  ttlSeconds: number;
};

export type SteeringChoice = { priority: string[]; ttlSeconds: number; degraded: boolean };

/** While a pathway is failing, players ask again this soon, so they come back when it recovers. */
export const DEGRADED_TTL_SECONDS = 5;

export function choosePathways(input: SteeringInput): SteeringChoice {
  const { complete, unhealthy, policy } = input;
  const preferred = policy?.countries?.[input.country] ?? policy?.priority ?? complete;
  // The policy may name a pathway this asset is not on (or leave one out): only complete
  // pathways are sent, and any the policy leaves out follow in configured order.
  const ordered = [...preferred.filter((id) => complete.includes(id)), ...complete.filter((id) => !preferred.includes(id))];
  const healthy = ordered.filter((id) => !unhealthy.has(id));
  const failing = ordered.filter((id) => unhealthy.has(id));
  const degraded = failing.length > 0;
  return {
    // Every pathway failing: the operator's order stands (nothing better to say).
    priority: healthy.length > 0 ? [...healthy, ...failing] : ordered,
    ttlSeconds: degraded ? Math.min(input.ttlSeconds, DEGRADED_TTL_SECONDS) : input.ttlSeconds,
    degraded,
  };
}

/** STEERING_TTL_SECONDS: a whole number from 1 to 3600; anything else is the default. */
export function steeringTtl(value: string | undefined, fallback = 30): number {
  const n = /^\d{1,4}$/.test(value ?? "") ? Number(value) : NaN;
  return n >= 1 && n <= 3600 ? n : fallback;
}
