// Receiving one Stripe webhook delivery: the signature over the exact body first, then the event, applied once.
import { ApiError } from "../../../lib/errors.ts";
import { parseStripeEvent } from "./stripe-events.ts";
import { verifyStripeSignature } from "./stripe-signature.ts";
import { applyStripeEvent } from "./subscriptions.ts";

export async function receiveStripeWebhook(db: D1Database, secret: string, payload: string, signature: string | undefined, now: Date): Promise<{ duplicate: boolean }> {
  // An empty key would make every signature computable by anyone.
  if (!secret) throw new ApiError("UNAVAILABLE", "The billing webhook is not configured.");
  const check = await verifyStripeSignature(payload, signature, secret, Math.floor(now.getTime() / 1000));
  if (!check.ok) throw new ApiError("BAD_REQUEST", "The Stripe-Signature header does not verify.", { details: { reason: check.reason } });
  const event = parseStripeEvent(payload);
  if (!event) throw new ApiError("BAD_REQUEST", "The body is not a Stripe event.");
  const { duplicate } = await applyStripeEvent(db, event, now);
  return { duplicate };
}
