// The account's plan as its AccountStreams object enforces it: made from the subscription
// row, pushed whenever the subscription changes in D1 and handed over at every Play, so
// heartbeats check the current plan without a D1 read each.
import type { PlanState } from "../../../durable-objects/account-streams.ts";
import { planById } from "../../../lib/plans.ts";
import { streamLeases } from "./stream-leases.ts";
import { PLAYING_STATUSES } from "./start-checks.ts";

type SubscriptionLike = { planId: string; status: string; updatedAt: Date } | null;

/** No subscription, or one that does not play: nothing may stream (the screens and height are then moot). */
export function planStateOf(subscription: SubscriptionLike): PlanState {
  const plan = subscription && PLAYING_STATUSES.has(subscription.status) ? planById(subscription.planId) : undefined;
  return {
    planId: plan?.id ?? null,
    playing: plan !== undefined,
    maxStreams: plan?.maxStreams ?? 1,
    maxHeight: plan?.maxHeight ?? 1,
    version: subscription?.updatedAt.getTime() ?? 0,
  };
}

/**
 * Tells the account's streams object the subscription as D1 has it now. Idempotent and
 * ordered (the object keeps the newest version), so a caller may send it again after a
 * failure; a failure is a retryable 503 (durable-object-retry.ts).
 */
export async function pushPlan(env: { ACCOUNT_STREAMS: ApiEnv["ACCOUNT_STREAMS"] }, accountId: string, subscription: SubscriptionLike, requestId: string): Promise<void> {
  await streamLeases(env, accountId, requestId).setPlan(planStateOf(subscription));
}
