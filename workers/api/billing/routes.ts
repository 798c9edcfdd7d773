// /v1/plans and /v1/billing/*: the plans on offer, choosing one (checkout), the account's subscription, and Stripe's webhook.
// The subscription is read through the request's D1 session (a replica, with the
// member's bookmark); checkout and the webhook write on the primary (`c.env.DB`), and a
// checkout's answer carries a bookmark from the primary so the member sees the plan at once.
import { createRoute, z } from "@hono/zod-openapi";
import { errorBodySchema } from "../../../lib/errors.ts";
import { planById, planIds, plans } from "../../../lib/plans.ts";
import { refuseKidsProfile, requireAuth } from "../auth/require-auth.ts";
import { bookmarkFromPrimary, memberDb } from "../d1-sessions/member-db.ts";
import { asD1Database } from "../d1-sessions/queryable.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { startCheckout } from "./checkout.ts";
import { getSubscription, type Subscription } from "./subscriptions.ts";
import { receiveStripeWebhook } from "./webhook.ts";
import { jsonBody, KB, limitBody } from "../body-limits.ts";

const tags = ["billing"];
const security = [{ session: [] }];
const errors = errorDocs({ 400: "Invalid request", 401: "Not signed in", 403: "Not allowed from a kids profile, or dev billing on a non-local host" });

const planSchema = z
  .object({
    id: z.enum(planIds),
    name: z.string(),
    priceCents: z.number().int(),
    currency: z.string(),
    interval: z.literal("month"),
    maxStreams: z.number().int().openapi({ description: "Streams playing at once" }),
    maxHeight: z.number().int().openapi({ description: "Best resolution class (720, 1080, 2160)" }),
  })
  .openapi("Plan");

const liveStatuses = ["trialing", "active", "past_due", "canceled"] as const;
const subscriptionSchema = z
  .union([
    z.object({
      status: z.enum(liveStatuses),
      planId: z.enum(planIds),
      provider: z.enum(["dev", "stripe"]),
      currentPeriodEnd: z.string().nullable(),
    }),
    z.object({ status: z.literal("none") }),
  ])
  .openapi("Subscription");

const checkoutResultSchema = z
  .union([
    z.object({ status: z.literal("active"), planId: z.enum(planIds) }).openapi({ description: "Dev provider: active at once" }),
    z.object({ url: z.url() }).openapi({ description: "Stripe: send the member to this Checkout page" }),
  ])
  .openapi("CheckoutResult");

function subscriptionView(row: Subscription | null): z.infer<typeof subscriptionSchema> {
  if (!row) return { status: "none" };
  return { status: row.status, planId: row.planId, provider: row.provider, currentPeriodEnd: row.currentPeriodEnd?.toISOString() ?? null };
}

export const billingRoutes = createRouter();

billingRoutes.openapi(
  createRoute({ method: "get", path: "/v1/plans", tags, summary: "The plans on offer, with price and limits", responses: { 200: json(z.object({ plans: z.array(planSchema) }), "Plans") } }),
  (c) => c.json({ plans: plans.map((p) => ({ ...p, interval: "month" as const })) }, 200),
);

billingRoutes.use("/v1/billing/checkout", requireAuth, refuseKidsProfile);
billingRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/billing/checkout",
    tags,
    security,
    summary: "Choose a plan: the dev provider activates it at once, Stripe answers with its Checkout page",
    request: { body: jsonBody(z.object({ planId: z.enum(planIds) }), 1 * KB) },
    responses: {
      200: json(checkoutResultSchema, "Activated (dev) or the Checkout page (Stripe)"),
      409: json(errorBodySchema, "Already subscribed through Stripe: change plans there"),
      503: json(errorBodySchema, "Stripe is unavailable"),
      ...errors,
    },
  }),
  async (c) => {
    const plan = planById(c.req.valid("json").planId)!;
    const result = await startCheckout(c.env, c.get("auth").accountId, plan, new URL(c.req.url), c.get("requestId"));
    // The dev provider activated the plan just now, on the primary.
    if ("status" in result) await bookmarkFromPrimary(c);
    return c.json(result, 200);
  },
);

billingRoutes.use("/v1/billing/subscription", requireAuth);
billingRoutes.openapi(
  createRoute({ method: "get", path: "/v1/billing/subscription", tags, security, summary: "The account's subscription", responses: { 200: json(subscriptionSchema, "The subscription, or status none"), ...errors } }),
  async (c) => c.json(subscriptionView(await getSubscription(asD1Database(memberDb(c)), c.get("auth").accountId)), 200),
);

billingRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/billing/webhook",
    tags,
    summary: "Stripe's webhook: subscription events, signed with the endpoint's secret (Stripe-Signature)",
    // Before the signature is computed over it: Stripe's events are a few KB (tens for a
    // subscription with many items); a body over this is not one, and costs no HMAC.
    middleware: [limitBody(256 * KB)],
    description: "The body is a Stripe event, read as raw text: the signature covers its exact bytes. Each event id is applied once.",
    request: { headers: z.object({ "stripe-signature": z.string().optional().openapi({ example: "t=1767225600,v1=5257a869…" }) }) },
    responses: {
      200: json(z.object({ received: z.literal(true), duplicate: z.boolean() }), "Recorded; duplicate when this event id was already received"),
      400: json(errorBodySchema, "Missing, malformed, stale or wrong signature, or not an event"),
      503: json(errorBodySchema, "The webhook secret is not configured, or the account's streams could not be told (Stripe retries)"),
    },
  }),
  async (c) => {
    // Read as text, never re-serialised: the signature covers these exact bytes.
    const payload = await c.req.text();
    const { duplicate } = await receiveStripeWebhook(c.env, c.env.STRIPE_WEBHOOK_SECRET, payload, c.req.valid("header")["stripe-signature"], new Date(), c.get("requestId"));
    return c.json({ received: true as const, duplicate }, 200);
  },
);
