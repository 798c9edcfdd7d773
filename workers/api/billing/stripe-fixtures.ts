// Stripe webhook events and signed deliveries shaped like Stripe's own, for tests and for playing Stripe against a local server (there is no Stripe to call there).
import type { PlanId } from "../../../lib/plans.ts";
import { signStripePayload } from "./stripe-signature.ts";

let sequence = 0;
const uniqueId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++sequence).toString(36)}`;

export const nowSec = () => Math.floor(Date.now() / 1000);

export type FakeEvent = { id: string; object: "event"; type: string; created: number; livemode: false; data: { object: Record<string, unknown> } };

export function stripeEvent(type: string, object: Record<string, unknown>, created = nowSec()): FakeEvent {
  return { id: uniqueId("evt"), object: "event", type, created, livemode: false, data: { object } };
}

export const newSubscriptionId = () => uniqueId("sub");

export function checkoutCompleted(
  o: { accountId: string; subscriptionId: string; planId: PlanId; customerId?: string; paymentStatus?: "paid" | "unpaid" | "no_payment_required"; type?: "checkout.session.completed" | "checkout.session.async_payment_succeeded" },
  created?: number,
): FakeEvent {
  return stripeEvent(
    o.type ?? "checkout.session.completed",
    {
      id: uniqueId("cs"),
      object: "checkout.session",
      mode: "subscription",
      client_reference_id: o.accountId,
      subscription: o.subscriptionId,
      customer: o.customerId ?? "cus_test",
      payment_status: o.paymentStatus ?? "paid",
      metadata: { plan_id: o.planId },
    },
    created,
  );
}

/** A subscription object; `pricePlanId` goes on the price (a plan switch in Stripe), `planId` on the subscription. */
export function subscriptionObject(o: { id: string; status: string; planId?: string; pricePlanId?: string; currentPeriodEnd?: number }): Record<string, unknown> {
  return {
    id: o.id,
    object: "subscription",
    status: o.status,
    customer: "cus_test",
    metadata: o.planId ? { plan_id: o.planId } : {},
    current_period_end: o.currentPeriodEnd,
    items: { object: "list", data: [{ id: "si_test", price: { id: "price_test", metadata: o.pricePlanId ? { plan_id: o.pricePlanId } : {} } }] },
  };
}

export function paymentFailed(subscriptionId: string, created?: number): FakeEvent {
  return stripeEvent("invoice.payment_failed", { id: uniqueId("in"), object: "invoice", subscription: subscriptionId, attempt_count: 1 }, created);
}

/** A POST as Stripe delivers it: the exact body text and its Stripe-Signature header. */
export async function signedDelivery(body: string | FakeEvent, secret: string, t = nowSec()): Promise<RequestInit> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": await signStripePayload(text, secret, t) },
    body: text,
  };
}
