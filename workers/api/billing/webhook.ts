// Receiving one Stripe webhook delivery: the signature over the exact body first, then the
// event, applied once, then the account's streams told the subscription as it now is.
import { ApiError } from "../../../lib/errors.ts";
import { pushPlan } from "../playback/plan-sync.ts";
import { parseStripeEvent } from "./stripe-events.ts";
import { verifyStripeSignature } from "./stripe-signature.ts";
import { accountOfStripeEvent, applyStripeEvent, getSubscription } from "./subscriptions.ts";

type WebhookEnv = { DB: D1Database; ACCOUNT_STREAMS: ApiEnv["ACCOUNT_STREAMS"] };

/**
 * A failure to tell the streams object is a retryable 503: Stripe delivers the event
 * again, the event is then a duplicate in D1 (nothing applied twice), and the push — of
 * the subscription as D1 has it, whatever event it came from — is made again. So a
 * cancellation always reaches the streams that are playing.
 */
export async function receiveStripeWebhook(env: WebhookEnv, secret: string, payload: string, signature: string | undefined, now: Date, requestId: string): Promise<{ duplicate: boolean }> {
  // An empty key would make every signature computable by anyone.
  if (!secret) throw new ApiError("UNAVAILABLE", "The billing webhook is not configured.");
  const check = await verifyStripeSignature(payload, signature, secret, Math.floor(now.getTime() / 1000));
  if (!check.ok) throw new ApiError("BAD_REQUEST", "The Stripe-Signature header does not verify.", { details: { reason: check.reason } });
  const event = parseStripeEvent(payload);
  if (!event) throw new ApiError("BAD_REQUEST", "The body is not a Stripe event.");
  const { duplicate } = await applyStripeEvent(env.DB, event, now);
  const accountId = await accountOfStripeEvent(env.DB, event);
  if (accountId) await pushPlan(env, accountId, await getSubscription(env.DB, accountId), requestId);
  return { duplicate };
}
