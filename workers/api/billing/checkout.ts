// Choosing a plan, by the configured provider: the dev provider activates it at once (on localhost only), Stripe sends the member to its Checkout page.
import { ApiError } from "../../../lib/errors.ts";
import type { Plan, PlanId } from "../../../lib/plans.ts";
import type { Bindings } from "../env.ts";
import { isLocalHostname } from "./local-host.ts";
import { createCheckoutSession, type Fetcher } from "./stripe-checkout.ts";
import { pushPlan } from "../playback/plan-sync.ts";
import { activateDevPlan, getSubscription } from "./subscriptions.ts";

export type CheckoutResult = { status: "active"; planId: PlanId } | { url: string };

type CheckoutEnv = Pick<Bindings, "DB" | "BILLING_PROVIDER" | "STRIPE_SECRET_KEY" | "ACCOUNT_STREAMS">;

async function devCheckout(env: CheckoutEnv, accountId: string, plan: Plan, requestUrl: URL, requestId: string): Promise<CheckoutResult> {
  // Dev billing gives plans away; see isLocalHostname for why a local host means "not production".
  if (!isLocalHostname(requestUrl.hostname)) {
    throw new ApiError("FORBIDDEN", "The dev billing provider works only on localhost.", { details: { reason: "dev_billing_not_local" } });
  }
  const sub = await activateDevPlan(env.DB, accountId, plan.id, new Date());
  await pushPlan(env, accountId, sub, requestId);
  return { status: "active", planId: sub.planId };
}

async function stripeCheckout(env: CheckoutEnv, accountId: string, plan: Plan, requestUrl: URL, fetcher: Fetcher): Promise<CheckoutResult> {
  const current = await getSubscription(env.DB, accountId);
  // A second Checkout would start a second subscription, billed alongside the first.
  if (current?.provider === "stripe" && current.status !== "canceled") {
    throw new ApiError("CONFLICT", "This account already has a subscription; change its plan instead.", { details: { status: current.status } });
  }
  return createCheckoutSession({ secretKey: env.STRIPE_SECRET_KEY, accountId, plan, origin: requestUrl.origin }, fetcher);
}

export function startCheckout(env: CheckoutEnv, accountId: string, plan: Plan, requestUrl: URL, requestId: string, fetcher: Fetcher = fetch): Promise<CheckoutResult> {
  if (env.BILLING_PROVIDER === "dev") return devCheckout(env, accountId, plan, requestUrl, requestId);
  if (env.BILLING_PROVIDER === "stripe") return stripeCheckout(env, accountId, plan, requestUrl, fetcher);
  throw new ApiError("UNAVAILABLE", "Billing is not configured.");
}
