// Billing when things are wrong: events we cannot use, a webhook without its secret, Stripe refusing or unreachable, bad checkout requests.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { planById } from "../../../lib/plans.ts";
import { createApp } from "../app.ts";
import { createCheckoutSession, STRIPE_CHECKOUT_URL, type Fetcher } from "../billing/stripe-checkout.ts";
import { checkoutCompleted, newSubscriptionId, paymentFailed, signedDelivery, stripeEvent, subscriptionObject, type FakeEvent } from "../billing/stripe-fixtures.ts";
import { getSubscription } from "../billing/subscriptions.ts";
import { call, signUp } from "./auth-client.ts";

const SECRET = env.STRIPE_WEBHOOK_SECRET;

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  return body;
}

const webhook = async (body: FakeEvent | string) => exports.default.fetch("https://marquee.test/v1/billing/webhook", await signedDelivery(body, SECRET));

async function deliver(event: FakeEvent) {
  const res = await webhook(event);
  expect(res.status).toBe(200);
  return (await res.json()) as { received: true; duplicate: boolean };
}

const eventCount = async () => (await env.DB.prepare("SELECT count(*) AS n FROM billing_events").first<{ n: number }>())!.n;
const seen = async (id: string) => (await env.DB.prepare("SELECT 1 AS x FROM billing_events WHERE id = ?").bind(id).first()) !== null;

/** The app with other bindings (Stripe as the provider, a missing secret), called directly. */
async function withBindings(overrides: Partial<typeof env>, path: string, init: RequestInit, host = "marquee.test") {
  const ctx = createExecutionContext();
  const res = await createApp().request(`https://${host}${path}`, init, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("webhook bodies that are signed but unusable", () => {
  it("are 400 when not JSON or not shaped like an event, and nothing is recorded", async () => {
    const before = await eventCount();
    for (const body of ["not json", "[]", '{"id":"evt_x"}', '{"id":"evt_x","type":"a","created":"yesterday","data":{"object":{}}}']) {
      const res = await webhook(body);
      const error = await expectError(res, 400, "BAD_REQUEST");
      expect(error.error.message, body).toBe("The body is not a Stripe event.");
    }
    expect(await eventCount()).toBe(before);
  });

  it("for an unknown subscription are recorded and ignored", async () => {
    for (const event of [
      stripeEvent("customer.subscription.updated", subscriptionObject({ id: "sub_nobody", status: "active" })),
      stripeEvent("customer.subscription.deleted", subscriptionObject({ id: "sub_nobody", status: "canceled" })),
      paymentFailed("sub_nobody"),
    ]) {
      expect(await deliver(event)).toEqual({ received: true, duplicate: false });
      expect(await seen(event.id)).toBe(true);
    }
    expect(await env.DB.prepare("SELECT 1 FROM subscriptions WHERE provider_subscription_id = 'sub_nobody'").first()).toBeNull();
  });

  it("for an unknown account are recorded and create nothing", async () => {
    const event = checkoutCompleted({ accountId: "no-such-account", subscriptionId: newSubscriptionId(), planId: "basic" });
    expect(await deliver(event)).toEqual({ received: true, duplicate: false });
    expect(await seen(event.id)).toBe(true);
    expect(await getSubscription(env.DB, "no-such-account")).toBeNull();
  });

  it("that are not ours (no plan, an unknown plan, no subscription) or malformed are recorded and ignored", async () => {
    const m = await signUp();
    const base = checkoutCompleted({ accountId: m.accountId, subscriptionId: newSubscriptionId(), planId: "basic" });
    const variants: Record<string, unknown>[] = [
      { ...base.data.object, metadata: {} },
      { ...base.data.object, metadata: { plan_id: "platinum" } },
      { ...base.data.object, subscription: null },
      { ...base.data.object, client_reference_id: null },
      { ...base.data.object, client_reference_id: 42 },
    ];
    for (const object of variants) {
      const event = stripeEvent("checkout.session.completed", object);
      expect(await deliver(event)).toEqual({ received: true, duplicate: false });
      expect(await seen(event.id)).toBe(true);
    }
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
  });

  it("with a Stripe status we do not know, or an invoice without a subscription, change nothing", async () => {
    const m = await signUp();
    const subscriptionId = newSubscriptionId();
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId, planId: "basic" }, 1_800_000_000));
    const before = await getSubscription(env.DB, m.accountId);
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: subscriptionId, status: "hibernating" }), 1_800_000_100));
    await deliver(stripeEvent("customer.subscription.updated", { id: subscriptionId }, 1_800_000_100));
    await deliver(stripeEvent("invoice.payment_failed", { object: "invoice", subscription: null }, 1_800_000_100));
    expect(await getSubscription(env.DB, m.accountId)).toEqual(before);
  });

  it("for a canceled subscription never revive it (Stripe does not): only a new checkout does", async () => {
    const m = await signUp();
    const subscriptionId = newSubscriptionId();
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId, planId: "basic" }, 1_800_000_000));
    await deliver(stripeEvent("customer.subscription.deleted", subscriptionObject({ id: subscriptionId, status: "canceled" }), 1_800_000_100));
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: subscriptionId, status: "active" }), 1_800_000_200));
    await deliver(paymentFailed(subscriptionId, 1_800_000_300));
    expect((await getSubscription(env.DB, m.accountId))?.status).toBe("canceled");
  });
});

describe("the webhook without its secret", () => {
  it("is 503 and accepts nothing, rather than checking signatures against an empty key", async () => {
    const m = await signUp();
    const event = checkoutCompleted({ accountId: m.accountId, subscriptionId: newSubscriptionId(), planId: "premium" });
    const res = await withBindings({ STRIPE_WEBHOOK_SECRET: "" }, "/v1/billing/webhook", await signedDelivery(event, SECRET));
    await expectError(res, 503, "UNAVAILABLE");
    expect(await seen(event.id)).toBe(false);
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
  });
});

describe("POST /v1/billing/checkout", () => {
  it("refuses an unknown plan or a missing body with VALIDATION_FAILED", async () => {
    const m = await signUp();
    const post = (body: string) =>
      exports.default.fetch("https://localhost/v1/billing/checkout", { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body });
    for (const body of ['{"planId":"platinum"}', "{}", '{"planId":1}']) {
      const error = await expectError(await post(body), 400, "VALIDATION_FAILED");
      expect(error.error.details).toEqual([expect.objectContaining({ path: "planId" })]);
    }
    await expectError(await post("{not json"), 400, "BAD_REQUEST");
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
  });

  it("with an unknown BILLING_PROVIDER is 503, and activates nothing", async () => {
    const m = await signUp();
    const init = { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body: '{"planId":"basic"}' };
    await expectError(await withBindings({ BILLING_PROVIDER: "free-for-all" }, "/v1/billing/checkout", init, "localhost"), 503, "UNAVAILABLE");
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
  });
});

describe("Stripe checkout", () => {
  let logged: MockInstance<typeof console.error>;
  // Stripe failures are logged as errors, for whoever runs the deployment: checked here, and kept out of the test output.
  beforeEach(() => {
    logged = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());
  const lastLog = () => JSON.parse(String(logged.mock.lastCall?.[0])) as Record<string, unknown>;

  const input = { secretKey: "sk_test_fake", accountId: "acc_1", plan: planById("standard")!, origin: "https://watch.example" };
  const answering = (status: number, body: unknown): Fetcher => async () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  it("sends Stripe a subscription session for the plan, and returns its page", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetcher: Fetcher = async (url, init) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ id: "cs_test_1", url: "https://checkout.stripe.com/c/pay/cs_test_1" }), { status: 200 });
    };
    expect(await createCheckoutSession(input, fetcher)).toEqual({ url: "https://checkout.stripe.com/c/pay/cs_test_1" });
    expect(calls).toHaveLength(1);
    const { url, init } = calls[0]!;
    expect(url).toBe(STRIPE_CHECKOUT_URL);
    expect(init.method).toBe("POST");
    expect(init.headers).toMatchObject({ Authorization: "Bearer sk_test_fake", "Content-Type": "application/x-www-form-urlencoded" });
    expect(Object.fromEntries(new URLSearchParams(String(init.body)))).toEqual({
      mode: "subscription",
      client_reference_id: "acc_1",
      success_url: "https://watch.example/?checkout=success",
      cancel_url: "https://watch.example/?checkout=canceled",
      "line_items[0][price_data][currency]": "usd",
      "line_items[0][price_data][unit_amount]": "1549",
      "line_items[0][price_data][recurring][interval]": "month",
      "line_items[0][price_data][product_data][name]": "Marquee Standard",
      "line_items[0][quantity]": "1",
      "metadata[plan_id]": "standard",
      "subscription_data[metadata][plan_id]": "standard",
    });
  });

  it.each([
    ["Stripe refuses (bad key)", answering(401, { error: { message: "Invalid API Key provided" } })],
    ["Stripe fails", answering(500, { error: { message: "oops" } })],
    ["Stripe answers without a url", answering(200, { id: "cs_1" })],
    ["Stripe answers with something else than JSON", async () => new Response("<html>", { status: 200 })],
    ["the network fails", async () => Promise.reject(new TypeError("Network connection lost."))],
  ] as [string, Fetcher][])("is UNAVAILABLE (503) when %s", async (_, fetcher) => {
    await expect(createCheckoutSession(input, fetcher)).rejects.toMatchObject({ code: "UNAVAILABLE", status: 503 });
    expect(lastLog()).toMatchObject({ level: "error", event: "stripe_request_failed" });
  });

  it("logs Stripe's own message, but tells the member only that payments are unavailable", async () => {
    const error = await createCheckoutSession(input, answering(401, { error: { message: "Invalid API Key provided: sk_test_****" } })).catch((e: unknown) => e);
    expect(lastLog()).toMatchObject({ status: 401, message: "Invalid API Key provided: sk_test_****" });
    expect((error as Error).message).toBe("Payments are unavailable right now. Try again in a minute.");
  });

  it("is UNAVAILABLE without a secret key, and then does not call Stripe at all", async () => {
    const fetcher = vi.fn<Fetcher>();
    await expect(createCheckoutSession({ ...input, secretKey: "" }, fetcher)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(fetcher).not.toHaveBeenCalled();
  });

  it("through the route: the page's url for the request's origin, or 503 with the standard body", async () => {
    const m = await signUp();
    const sent: { url: string; init: RequestInit }[] = [];
    const stripe = vi.spyOn(globalThis, "fetch").mockImplementation(async (url, init) => {
      sent.push({ url: String(url), init: init! });
      return new Response(JSON.stringify({ id: "cs_2", url: "https://checkout.stripe.com/c/pay/cs_2" }));
    });
    const init = { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body: '{"planId":"premium"}' };
    const ok = await withBindings({ BILLING_PROVIDER: "stripe", STRIPE_SECRET_KEY: "sk_test_route" }, "/v1/billing/checkout", init, "watch.example");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ url: "https://checkout.stripe.com/c/pay/cs_2" });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe(STRIPE_CHECKOUT_URL);
    expect(sent[0]!.init.headers).toMatchObject({ Authorization: "Bearer sk_test_route" });
    const form = new URLSearchParams(String(sent[0]!.init.body));
    expect(form.get("client_reference_id")).toBe(m.accountId);
    expect(form.get("success_url")).toBe("https://watch.example/?checkout=success");
    // Choosing a plan through Stripe does not activate anything until Stripe's webhook says so.
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();

    stripe.mockResolvedValue(new Response('{"error":{"message":"down"}}', { status: 500 }));
    await expectError(await withBindings({ BILLING_PROVIDER: "stripe" }, "/v1/billing/checkout", init, "watch.example"), 503, "UNAVAILABLE");
  });

  it("through the route: refuses a second Stripe subscription (it would be billed twice), allows one after a cancel", async () => {
    const m = await signUp();
    const subscriptionId = newSubscriptionId();
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId, planId: "basic" }, 1_800_000_000));
    const stripe = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(JSON.stringify({ id: "cs_3", url: "https://checkout.stripe.com/c/pay/cs_3" })));
    const init = { method: "POST", headers: { ...m.headers, "content-type": "application/json" }, body: '{"planId":"premium"}' };
    const error = await expectError(await withBindings({ BILLING_PROVIDER: "stripe" }, "/v1/billing/checkout", init), 409, "CONFLICT");
    expect(error.error.details).toEqual({ status: "active" });
    expect(stripe).not.toHaveBeenCalled();
    await deliver(stripeEvent("customer.subscription.deleted", subscriptionObject({ id: subscriptionId, status: "canceled" }), 1_800_000_100));
    expect((await withBindings({ BILLING_PROVIDER: "stripe" }, "/v1/billing/checkout", init)).status).toBe(200);
  });
});

describe("GET /v1/billing/subscription", () => {
  it("is status none for an account that never subscribed", async () => {
    const m = await signUp();
    const res = await call("/v1/billing/subscription", { headers: m.headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "none" });
  });
});
