// Billing as it should go: the plans, dev checkout, valid signatures, and each Stripe event's effect on the subscription — applied once, in order.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { plans } from "../../../lib/plans.ts";
import {
  checkoutCompleted,
  newSubscriptionId,
  nowSec,
  paymentFailed,
  signedDelivery,
  stripeEvent,
  subscriptionObject,
  type FakeEvent,
} from "../billing/stripe-fixtures.ts";
import { signStripePayload, verifyStripeSignature } from "../billing/stripe-signature.ts";
import { getSubscription } from "../billing/subscriptions.ts";
import { call, signUp } from "./auth-client.ts";

const SECRET = env.STRIPE_WEBHOOK_SECRET;

async function deliver(event: FakeEvent | string) {
  const res = await exports.default.fetch("https://marquee.test/v1/billing/webhook", await signedDelivery(event, SECRET));
  expect(res.status).toBe(200);
  return (await res.json()) as { received: true; duplicate: boolean };
}

const seenEvent = (id: string) => env.DB.prepare("SELECT id, type FROM billing_events WHERE id = ?").bind(id).first<{ id: string; type: string }>();

/** A member whose Stripe checkout completed at `created`. */
async function stripeMember(planId: "basic" | "standard" | "premium" = "basic", created = 1_800_000_000) {
  const member = await signUp();
  const subscriptionId = newSubscriptionId();
  expect(await deliver(checkoutCompleted({ accountId: member.accountId, subscriptionId, planId, customerId: "cus_42" }, created))).toEqual({ received: true, duplicate: false });
  return { ...member, subscriptionId };
}

describe("GET /v1/plans", () => {
  it("lists every plan with its monthly price and limits, without signing in", async () => {
    const res = await call("/v1/plans");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { plans: Record<string, unknown>[] };
    expect(body.plans).toEqual(plans.map((p) => ({ ...p, interval: "month" })));
    expect(body.plans.map((p) => p.id)).toEqual(["basic", "standard", "premium"]);
  });
});

describe("the OpenAPI document", () => {
  it("documents the billing routes, the member ones as needing a session", async () => {
    const doc = (await (await call("/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>> };
    expect(doc.paths["/v1/plans"]?.get?.security).toBeUndefined();
    expect(doc.paths["/v1/billing/checkout"]?.post?.security).toEqual([{ session: [] }]);
    expect(doc.paths["/v1/billing/subscription"]?.get?.security).toEqual([{ session: [] }]);
    expect(Object.keys(doc.paths["/v1/billing/webhook"]?.post?.responses ?? {})).toEqual(["200", "400", "503"]);
  });
});

describe("POST /v1/billing/checkout with the dev provider, on localhost", () => {
  const localCheckout = (headers: Record<string, string>, planId: string, host = "localhost") =>
    exports.default.fetch(`https://${host}/v1/billing/checkout`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ planId }) });

  it("activates the plan at once, and the subscription says so", async () => {
    const m = await signUp();
    expect(await (await call("/v1/billing/subscription", { headers: m.headers })).json()).toEqual({ status: "none" });
    const res = await localCheckout(m.headers, "standard");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "active", planId: "standard" });
    const sub = await call("/v1/billing/subscription", { headers: m.headers });
    expect(await sub.json()).toEqual({ status: "active", planId: "standard", provider: "dev", currentPeriodEnd: null });
  });

  it("changes the plan when called again", async () => {
    const m = await signUp();
    await localCheckout(m.headers, "basic");
    expect(await (await localCheckout(m.headers, "premium")).json()).toEqual({ status: "active", planId: "premium" });
    expect((await getSubscription(env.DB, m.accountId))?.planId).toBe("premium");
  });

  it.each(["127.0.0.1", "[::1]", "app.localhost"])("works on %s too", async (host) => {
    const m = await signUp();
    expect((await localCheckout(m.headers, "basic", host)).status).toBe(200);
  });
});

describe("Stripe signatures", () => {
  it("verify as Stripe makes them", async () => {
    const t = nowSec();
    const header = await signStripePayload('{"id":"evt_1"}', SECRET, t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verifyStripeSignature('{"id":"evt_1"}', header, SECRET, t)).toEqual({ ok: true, timestamp: t });
  });

  it("match Stripe's published algorithm (HMAC-SHA256 of `t.payload`, hex)", async () => {
    // An independent computation of the same MAC, so the module is not only checked against itself.
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("whsec_abc"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("1700000000.{}")));
    const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(await signStripePayload("{}", "whsec_abc", 1_700_000_000)).toBe(`t=1700000000,v1=${hex}`);
  });

  it("are accepted when any one of several v1 values matches (a secret being rolled), in any order, next to v0", async () => {
    const t = nowSec();
    const valid = (await signStripePayload("body", SECRET, t)).split(",")[1]!;
    const other = (await signStripePayload("body", "whsec_old_secret", t)).split(",")[1]!;
    for (const header of [`t=${t},${other},${valid}`, `t=${t},${valid},${other}`, `t=${t}, ${other}, v0=abc, ${valid}`]) {
      expect(await verifyStripeSignature("body", header, SECRET, t), header).toEqual({ ok: true, timestamp: t });
    }
  });

  it("allow clock skew up to the tolerance, both ways", async () => {
    const t = nowSec();
    const header = await signStripePayload("body", SECRET, t);
    expect((await verifyStripeSignature("body", header, SECRET, t + 300)).ok).toBe(true);
    expect((await verifyStripeSignature("body", header, SECRET, t - 300)).ok).toBe(true);
  });
});

describe("Stripe webhook events", () => {
  it("checkout.session.completed makes the subscription active on the session's plan", async () => {
    const m = await stripeMember("standard");
    const sub = await getSubscription(env.DB, m.accountId);
    expect(sub).toMatchObject({ status: "active", planId: "standard", provider: "stripe", providerCustomerId: "cus_42", providerSubscriptionId: m.subscriptionId });
    expect(sub?.lastEventAt?.getTime()).toBe(1_800_000_000_000);
    expect(await (await call("/v1/billing/subscription", { headers: m.headers })).json()).toEqual({
      status: "active",
      planId: "standard",
      provider: "stripe",
      currentPeriodEnd: null,
    });
  });

  it("customer.subscription.updated maps Stripe's statuses, the period end, and a plan change", async () => {
    const m = await stripeMember("basic");
    const periodEnd = 1_802_592_000;
    const cases: [string, string][] = [
      ["trialing", "trialing"],
      ["active", "active"],
      ["past_due", "past_due"],
      ["unpaid", "past_due"],
      ["incomplete", "past_due"],
      ["active", "active"],
    ];
    let created = 1_800_000_001;
    for (const [stripeStatus, ours] of cases) {
      await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: stripeStatus, planId: "basic", currentPeriodEnd: periodEnd }), created++));
      expect((await getSubscription(env.DB, m.accountId))?.status, stripeStatus).toBe(ours);
    }
    // The price's plan wins over the subscription's metadata: switching prices is how Stripe changes plans.
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "active", planId: "basic", pricePlanId: "premium" }), created++));
    const sub = await getSubscription(env.DB, m.accountId);
    expect(sub).toMatchObject({ status: "active", planId: "premium" });
    expect(sub?.currentPeriodEnd?.getTime()).toBe(periodEnd * 1000);
    expect(await (await call("/v1/billing/subscription", { headers: m.headers })).json()).toMatchObject({ planId: "premium", currentPeriodEnd: new Date(periodEnd * 1000).toISOString() });
  });

  it("customer.subscription.updated takes the plan from the subscription's metadata when the price has none", async () => {
    const m = await stripeMember("basic");
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "active", planId: "standard" }), 1_800_000_010));
    expect((await getSubscription(env.DB, m.accountId))?.planId).toBe("standard");
  });

  it("reads the period end and the invoice's subscription where newer Stripe API versions put them", async () => {
    const m = await stripeMember("basic");
    const object = { ...subscriptionObject({ id: m.subscriptionId, status: "active" }), items: { data: [{ current_period_end: 1_803_000_000, price: { metadata: {} } }] } };
    await deliver(stripeEvent("customer.subscription.updated", object, 1_800_000_010));
    expect((await getSubscription(env.DB, m.accountId))?.currentPeriodEnd?.getTime()).toBe(1_803_000_000_000);
    await deliver(stripeEvent("invoice.payment_failed", { object: "invoice", parent: { subscription_details: { subscription: m.subscriptionId } } }, 1_800_000_020));
    expect((await getSubscription(env.DB, m.accountId))?.status).toBe("past_due");
  });

  it("invoice.payment_failed makes it past_due, and a later update back to active recovers it", async () => {
    const m = await stripeMember("basic");
    await deliver(paymentFailed(m.subscriptionId, 1_800_000_100));
    expect((await getSubscription(env.DB, m.accountId))?.status).toBe("past_due");
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "active" }), 1_800_000_200));
    expect((await getSubscription(env.DB, m.accountId))?.status).toBe("active");
  });

  it("customer.subscription.deleted cancels it; a new checkout subscribes again", async () => {
    const m = await stripeMember("premium");
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "active", currentPeriodEnd: 1_802_000_000 }), 1_800_000_050));
    await deliver(stripeEvent("customer.subscription.deleted", subscriptionObject({ id: m.subscriptionId, status: "canceled" }), 1_800_000_100));
    expect(await (await call("/v1/billing/subscription", { headers: m.headers })).json()).toMatchObject({ status: "canceled", planId: "premium" });
    const again = newSubscriptionId();
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId: again, planId: "basic" }, 1_800_000_200));
    // The old subscription's period end says nothing about the new one.
    expect(await getSubscription(env.DB, m.accountId)).toMatchObject({ status: "active", planId: "basic", providerSubscriptionId: again, currentPeriodEnd: null });
  });

  it("are applied once: a redelivered event is a duplicate and changes nothing", async () => {
    const m = await stripeMember("basic");
    const toStandard = stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "active", planId: "standard" }), 1_800_000_100);
    expect(await deliver(toStandard)).toEqual({ received: true, duplicate: false });
    // Same second, so without the event-id check the redelivery below would apply again.
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "past_due", planId: "premium" }), 1_800_000_100));
    const before = await getSubscription(env.DB, m.accountId);
    expect(before).toMatchObject({ status: "past_due", planId: "premium" });
    expect(await deliver(toStandard)).toEqual({ received: true, duplicate: true });
    expect(await getSubscription(env.DB, m.accountId)).toEqual(before);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM billing_events WHERE id = ?").bind(toStandard.id).first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it("tolerate disorder: an event older than the last applied one changes nothing, but is recorded", async () => {
    const m = await stripeMember("basic");
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "past_due", planId: "standard" }), 1_800_000_200));
    const late = stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "active", planId: "premium" }), 1_800_000_150);
    expect(await deliver(late)).toEqual({ received: true, duplicate: false });
    const sub = await getSubscription(env.DB, m.accountId);
    expect(sub).toMatchObject({ status: "past_due", planId: "standard" });
    expect(sub?.lastEventAt?.getTime()).toBe(1_800_000_200_000);
    expect(await seenEvent(late.id)).toEqual({ id: late.id, type: "customer.subscription.updated" });
    // An older payment failure and an older deletion are ignored the same way.
    await deliver(paymentFailed(m.subscriptionId, 1_800_000_100));
    await deliver(stripeEvent("customer.subscription.deleted", subscriptionObject({ id: m.subscriptionId, status: "canceled" }), 1_800_000_199));
    expect((await getSubscription(env.DB, m.accountId))?.status).toBe("past_due");
    // So is a checkout completed before the events already applied.
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId: newSubscriptionId(), planId: "premium" }, 1_800_000_150));
    expect(await getSubscription(env.DB, m.accountId)).toMatchObject({ status: "past_due", planId: "standard", providerSubscriptionId: m.subscriptionId });
  });

  it("are verified over the body's exact bytes, non-ASCII text included", async () => {
    const event = stripeEvent("customer.updated", { id: "cus_42", object: "customer", name: "Zoë Ørsted ✓ 映画" });
    // Stripe sends JSON with non-ASCII characters as they are, not as \u escapes.
    expect(JSON.stringify(event)).toContain("映画");
    expect(await deliver(event)).toEqual({ received: true, duplicate: false });
  });

  it("of types we do not handle are acknowledged, recorded and ignored", async () => {
    const m = await stripeMember("basic");
    const before = await getSubscription(env.DB, m.accountId);
    const event = stripeEvent("customer.created", { id: "cus_42", object: "customer" }, 1_800_000_500);
    expect(await deliver(event)).toEqual({ received: true, duplicate: false });
    expect(await seenEvent(event.id)).toEqual({ id: event.id, type: "customer.created" });
    expect(await deliver(event)).toEqual({ received: true, duplicate: true });
    expect(await getSubscription(env.DB, m.accountId)).toEqual(before);
  });
});
