// Creating a Stripe Checkout Session for a plan: the page where a member pays; Stripe then tells us through the webhook.
import { z } from "zod";
import { ApiError } from "../../../lib/errors.ts";
import type { Plan } from "../../../lib/plans.ts";
import { log } from "../../../lib/log.ts";

/** `fetch`, or a stand-in: tests pass one, since there is no Stripe to call from them. */
export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

export type CheckoutInput = { secretKey: string; accountId: string; plan: Plan; origin: string };

export const STRIPE_CHECKOUT_URL = "https://api.stripe.com/v1/checkout/sessions";

/** A slow Stripe should fail the request, not hold the member's click for the Worker's whole time limit. */
const STRIPE_TIMEOUT_MS = 10_000;

const sessionResponseSchema = z.looseObject({ id: z.string(), url: z.url() });
const stripeErrorSchema = z.object({ error: z.object({ message: z.string() }) });

/**
 * The session's form fields. The price is sent inline (price_data) so plans live in one
 * place, lib/plans.ts, instead of also in Stripe's dashboard; the plan id rides along in
 * the session's and the subscription's metadata, which is how webhook events find it again.
 */
export function checkoutSessionForm({ accountId, plan, origin }: CheckoutInput): URLSearchParams {
  return new URLSearchParams({
    mode: "subscription",
    client_reference_id: accountId,
    success_url: `${origin}/?checkout=success`,
    cancel_url: `${origin}/?checkout=canceled`,
    "line_items[0][price_data][currency]": plan.currency,
    "line_items[0][price_data][unit_amount]": String(plan.priceCents),
    "line_items[0][price_data][recurring][interval]": "month",
    "line_items[0][price_data][product_data][name]": `Marquee ${plan.name}`,
    "line_items[0][quantity]": "1",
    "metadata[plan_id]": plan.id,
    "subscription_data[metadata][plan_id]": plan.id,
  });
}

function unavailable(status: number | null, message: string): ApiError {
  log("error", { event: "stripe_request_failed", status, message });
  return new ApiError("UNAVAILABLE", "Payments are unavailable right now. Try again in a minute.");
}

async function callStripe(input: CheckoutInput, fetcher: Fetcher): Promise<Response> {
  try {
    return await fetcher(STRIPE_CHECKOUT_URL, {
      method: "POST",
      headers: { Authorization: `Bearer ${input.secretKey}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: checkoutSessionForm(input).toString(),
      signal: AbortSignal.timeout(STRIPE_TIMEOUT_MS),
    });
  } catch (err) {
    throw unavailable(null, err instanceof Error ? err.message : String(err));
  }
}

/** The Checkout page's URL; any failure of Stripe's is UNAVAILABLE (503) to the member. */
export async function createCheckoutSession(input: CheckoutInput, fetcher: Fetcher = fetch): Promise<{ url: string }> {
  if (!input.secretKey) throw unavailable(null, "STRIPE_SECRET_KEY is not set");
  const res = await callStripe(input, fetcher);
  const body: unknown = await res.json().catch(() => null);
  // Stripe's message (a bad key, an unknown currency) is for whoever runs the deployment, not for the member.
  if (!res.ok) throw unavailable(res.status, stripeErrorSchema.safeParse(body).data?.error.message ?? "Stripe refused the checkout session");
  const session = sessionResponseSchema.safeParse(body);
  if (!session.success) throw unavailable(res.status, "Stripe's answer has no checkout url");
  return { url: session.data.url };
}
