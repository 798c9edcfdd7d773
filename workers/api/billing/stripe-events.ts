// The parts of Stripe's webhook events that billing reads, as lenient zod schemas: Stripe adds fields all the time, so unknown ones pass through.
import { z } from "zod";
import { planById, type PlanId } from "../../../lib/plans.ts";
import type { SubscriptionStatus } from "../../../d1/schema.ts";

export const stripeEventSchema = z.looseObject({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  /** Unix seconds. */
  created: z.number().int().nonnegative(),
  data: z.looseObject({ object: z.looseObject({}) }),
});

export type StripeEvent = z.infer<typeof stripeEventSchema>;

/** Stripe sends ids as strings, or as whole objects when a field was expanded. */
const stripeId = z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) }).transform((o) => o.id)]);
const metadata = z.record(z.string(), z.string()).nullish();

export const checkoutSessionSchema = z.looseObject({
  client_reference_id: z.string().min(1).nullish(),
  /** paid, unpaid (a delayed method such as a bank debit, not settled yet) or no_payment_required (a free trial). */
  payment_status: z.string().nullish(),
  subscription: stripeId.nullish(),
  customer: stripeId.nullish(),
  metadata,
});

export const stripeSubscriptionSchema = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  customer: stripeId.nullish(),
  metadata,
  /** Before API version 2025-03-31 the period end is on the subscription, since then on its items. */
  current_period_end: z.number().int().nullish(),
  items: z
    .looseObject({
      data: z.array(
        z.looseObject({
          current_period_end: z.number().int().nullish(),
          price: z.looseObject({ metadata }).nullish(),
        }),
      ),
    })
    .nullish(),
});

export const invoiceSchema = z.looseObject({
  /** Before API version 2025-03-31; since then under `parent.subscription_details`. */
  subscription: stripeId.nullish(),
  parent: z.looseObject({ subscription_details: z.looseObject({ subscription: stripeId.nullish() }).nullish() }).nullish(),
});

export type CheckoutSession = z.infer<typeof checkoutSessionSchema>;
export type StripeSubscription = z.infer<typeof stripeSubscriptionSchema>;
export type Invoice = z.infer<typeof invoiceSchema>;

/** Parses a webhook body; null when it is not JSON or not shaped like an event. */
export function parseStripeEvent(body: string): StripeEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = stripeEventSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

function knownPlan(id: string | undefined): PlanId | null {
  return id ? (planById(id)?.id ?? null) : null;
}

export function checkoutPlan(session: CheckoutSession): PlanId | null {
  return knownPlan(session.metadata?.plan_id);
}

/** The price's plan first: switching a subscription to another price is how a plan changes in Stripe. */
export function subscriptionPlan(subscription: StripeSubscription): PlanId | null {
  return knownPlan(subscription.items?.data[0]?.price?.metadata?.plan_id) ?? knownPlan(subscription.metadata?.plan_id);
}

export function subscriptionPeriodEnd(subscription: StripeSubscription): Date | null {
  const seconds = subscription.current_period_end ?? subscription.items?.data[0]?.current_period_end;
  return seconds ? new Date(seconds * 1000) : null;
}

export function invoiceSubscriptionId(invoice: Invoice): string | null {
  return invoice.subscription ?? invoice.parent?.subscription_details?.subscription ?? null;
}

/**
 * Stripe's statuses in ours. `unpaid` and `incomplete` still owe a payment (past_due: the
 * member is asked to pay, not thrown out); `incomplete_expired` never started (canceled);
 * `paused` (a trial ended without a payment method) waits for one, like past_due.
 * Anything newer than this list is left alone rather than guessed.
 */
const statusMap = new Map<string, SubscriptionStatus>([
  ["trialing", "trialing"],
  ["active", "active"],
  ["past_due", "past_due"],
  ["unpaid", "past_due"],
  ["incomplete", "past_due"],
  ["paused", "past_due"],
  ["canceled", "canceled"],
  ["incomplete_expired", "canceled"],
]);

export function ourStatus(stripeStatus: string): SubscriptionStatus | null {
  return statusMap.get(stripeStatus) ?? null;
}
