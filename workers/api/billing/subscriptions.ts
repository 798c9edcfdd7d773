// The subscription state machine (none, trialing, active, past_due, canceled), moved by the dev provider or by Stripe's webhook events: once each, newest last.
import { and, eq, isNull, lte, ne, notExists, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { accounts, billingEvents, subscriptions } from "../../../d1/schema.ts";
import type { PlanId } from "../../../lib/plans.ts";
import { log } from "../../../lib/log.ts";
import {
  checkoutPlan,
  checkoutSessionSchema,
  invoiceSchema,
  invoiceSubscriptionId,
  ourStatus,
  stripeSubscriptionSchema,
  subscriptionPeriodEnd,
  subscriptionPlan,
  type StripeEvent,
} from "./stripe-events.ts";

export type Subscription = typeof subscriptions.$inferSelect;
/**
 * "none" is not stored: an account without a row has never subscribed. A checkout makes it
 * active from any state; Stripe's subscription events move trialing, active and past_due
 * among themselves and to canceled; a canceled subscription stays so until a new checkout.
 */
export type { SubscriptionStatus } from "../../../d1/schema.ts";

export type ApplyResult = { duplicate: boolean; outcome: "applied" | "stale" | "ignored" | "duplicate" };

type Orm = DrizzleD1Database<Record<string, never>>;

async function subscriptionOf(orm: Orm, accountId: string): Promise<Subscription | null> {
  const [row] = await orm.select().from(subscriptions).where(eq(subscriptions.accountId, accountId));
  return row ?? null;
}

export function getSubscription(db: D1Database, accountId: string): Promise<Subscription | null> {
  return subscriptionOf(drizzle(db), accountId);
}

async function subscriptionByProviderId(orm: Orm, providerSubscriptionId: string): Promise<Subscription | null> {
  const [row] = await orm.select().from(subscriptions).where(eq(subscriptions.providerSubscriptionId, providerSubscriptionId));
  return row ?? null;
}

async function accountExists(orm: Orm, accountId: string): Promise<boolean> {
  const [row] = await orm.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId));
  return row !== undefined;
}

/** The dev provider: no payment, the plan is active at once (routes allow it on local hosts only). */
export async function activateDevPlan(db: D1Database, accountId: string, planId: PlanId, now: Date): Promise<Subscription> {
  const values = {
    planId,
    status: "active" as const,
    provider: "dev" as const,
    providerCustomerId: null,
    providerSubscriptionId: null,
    currentPeriodEnd: null,
    updatedAt: now,
  };
  const [row] = await drizzle(db)
    .insert(subscriptions)
    .values({ accountId, ...values })
    .onConflictDoUpdate({ target: subscriptions.accountId, set: values })
    .returning();
  return row!;
}

// ---- Stripe events ----------------------------------------------------------------------

/**
 * What an event does, decided from a read; the statement repeats the read's conditions in
 * SQL, so an event applied concurrently in between still cannot undo a newer one.
 */
type Decision = { kind: "change"; statement: BatchItem<"sqlite"> } | { kind: "stale" } | { kind: "ignored"; reason: string };

const ignored = (reason: string): Decision => ({ kind: "ignored", reason });

const eventTime = (event: StripeEvent) => new Date(event.created * 1000);

const seen = (orm: Orm, eventId: string) => orm.select({ id: billingEvents.id }).from(billingEvents).where(eq(billingEvents.id, eventId));

/** Events are applied in `created` order; one from the same second as the last still applies (Stripe often sends several). */
const notOlderThan = (created: Date) => or(isNull(subscriptions.lastEventAt), lte(subscriptions.lastEventAt, created));

const isStale = (row: Subscription, event: StripeEvent) => row.lastEventAt !== null && row.lastEventAt.getTime() > event.created * 1000;

/** A new checkout creates or replaces the account's subscription (resubscribing after a cancel included). */
function checkoutUpsert(orm: Orm, event: StripeEvent, now: Date, change: { accountId: string; planId: PlanId; subscriptionId: string; customerId: string | null }) {
  const created = eventTime(event);
  const set = {
    planId: change.planId,
    status: "active" as const,
    provider: "stripe" as const,
    providerCustomerId: change.customerId,
    providerSubscriptionId: change.subscriptionId,
    lastEventAt: created,
    updatedAt: now,
  };
  return orm
    .insert(subscriptions)
    .values({ accountId: change.accountId, ...set })
    .onConflictDoUpdate({
      target: subscriptions.accountId,
      // The period end belongs to the Stripe subscription: kept for the same one, unknown for a new one.
      set: { ...set, currentPeriodEnd: sql`CASE WHEN ${subscriptions.providerSubscriptionId} = ${change.subscriptionId} THEN ${subscriptions.currentPeriodEnd} END` },
      // The plain insert needs no such guard: it only happens while no row exists, i.e. before this event was ever applied.
      setWhere: and(notOlderThan(created), notExists(seen(orm, event.id))),
    });
}

/** Changes a Stripe subscription's row, unless the event is old, already applied, or the subscription has ended (Stripe never revives one). */
function guardedUpdate(orm: Orm, event: StripeEvent, now: Date, where: SQL, set: Partial<Pick<Subscription, "status" | "planId" | "currentPeriodEnd">>) {
  const created = eventTime(event);
  return orm
    .update(subscriptions)
    .set({ ...set, lastEventAt: created, updatedAt: now })
    .where(and(where, ne(subscriptions.status, "canceled"), notOlderThan(created), notExists(seen(orm, event.id))));
}

async function decideCheckoutCompleted(orm: Orm, event: StripeEvent, now: Date): Promise<Decision> {
  const session = checkoutSessionSchema.safeParse(event.data.object);
  if (!session.success) return ignored("malformed checkout session");
  const accountId = session.data.client_reference_id;
  const subscriptionId = session.data.subscription;
  const planId = checkoutPlan(session.data);
  // Sessions without these were not made by our checkout (a payment link, a one-off payment).
  if (!accountId || !subscriptionId || !planId) return ignored("not a Marquee subscription checkout");
  // A session completes before a delayed payment (a bank debit) settles: the plan starts
  // when it is paid, with checkout.session.async_payment_succeeded.
  if (session.data.payment_status !== "paid" && session.data.payment_status !== "no_payment_required") return ignored(`checkout not paid (${session.data.payment_status ?? "no payment_status"})`);
  if (!(await accountExists(orm, accountId))) return ignored("unknown account");
  const current = await subscriptionOf(orm, accountId);
  if (current && isStale(current, event)) return { kind: "stale" };
  return { kind: "change", statement: checkoutUpsert(orm, event, now, { accountId, planId, subscriptionId, customerId: session.data.customer ?? null }) };
}

async function decideSubscriptionChange(orm: Orm, event: StripeEvent, now: Date, deleted: boolean): Promise<Decision> {
  const parsed = stripeSubscriptionSchema.safeParse(event.data.object);
  if (!parsed.success) return ignored("malformed subscription");
  const subscription = parsed.data;
  const status = deleted ? "canceled" : ourStatus(subscription.status);
  if (!status) return ignored(`unknown Stripe status ${subscription.status}`);
  const row = await subscriptionByProviderId(orm, subscription.id);
  if (!row) return ignored("unknown subscription");
  if (isStale(row, event)) return { kind: "stale" };
  if (row.status === "canceled") return ignored("subscription already canceled");
  // A plan change is stored at once; playback reads the plan when a stream starts, so it applies to the next one.
  const set = { status, planId: subscriptionPlan(subscription) ?? undefined, currentPeriodEnd: subscriptionPeriodEnd(subscription) ?? undefined };
  return { kind: "change", statement: guardedUpdate(orm, event, now, eq(subscriptions.providerSubscriptionId, subscription.id), set) };
}

async function decidePaymentFailed(orm: Orm, event: StripeEvent, now: Date): Promise<Decision> {
  const invoice = invoiceSchema.safeParse(event.data.object);
  if (!invoice.success) return ignored("malformed invoice");
  const subscriptionId = invoiceSubscriptionId(invoice.data);
  // One-off invoices have no subscription: nothing of ours depends on them.
  if (!subscriptionId) return ignored("invoice without a subscription");
  const row = await subscriptionByProviderId(orm, subscriptionId);
  if (!row) return ignored("unknown subscription");
  if (isStale(row, event)) return { kind: "stale" };
  if (row.status === "canceled") return ignored("subscription already canceled");
  return { kind: "change", statement: guardedUpdate(orm, event, now, eq(subscriptions.providerSubscriptionId, subscriptionId), { status: "past_due" }) };
}

function decide(orm: Orm, event: StripeEvent, now: Date): Promise<Decision> {
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return decideCheckoutCompleted(orm, event, now);
    case "customer.subscription.updated":
      return decideSubscriptionChange(orm, event, now, false);
    case "customer.subscription.deleted":
      return decideSubscriptionChange(orm, event, now, true);
    case "invoice.payment_failed":
      return decidePaymentFailed(orm, event, now);
    default:
      return Promise.resolve(ignored("unhandled event type"));
  }
}

/**
 * The account an event is about, whether or not it changed anything (a redelivery too):
 * its streams object is told the subscription as it is now after every delivery.
 */
export async function accountOfStripeEvent(db: D1Database, event: StripeEvent): Promise<string | null> {
  const orm = drizzle(db);
  const object = event.data.object;
  if (event.type.startsWith("checkout.session.")) {
    const session = checkoutSessionSchema.safeParse(object);
    const accountId = session.success ? session.data.client_reference_id : null;
    return accountId && (await accountExists(orm, accountId)) ? accountId : null;
  }
  const subscriptionId = event.type.startsWith("customer.subscription.")
    ? stripeSubscriptionSchema.safeParse(object).data?.id
    : event.type.startsWith("invoice.")
      ? (() => {
          const invoice = invoiceSchema.safeParse(object);
          return invoice.success ? invoiceSubscriptionId(invoice.data) : null;
        })()
      : null;
  return subscriptionId ? ((await subscriptionByProviderId(orm, subscriptionId))?.accountId ?? null) : null;
}

function logOutcome(event: StripeEvent, decision: Decision, applied: boolean): void {
  if (decision.kind === "ignored") {
    // Stripe endpoints are often subscribed to more types than we handle: those are routine.
    const level = decision.reason === "unhandled event type" ? "debug" : "warn";
    log(level, { event: "billing_event_ignored", eventId: event.id, type: event.type, reason: decision.reason });
    return;
  }
  log("info", { event: "billing_event_handled", eventId: event.id, type: event.type, outcome: applied ? "applied" : "stale" });
}

/**
 * Applies one verified Stripe event. The change and the record of the event id are one D1
 * batch (one transaction), and the change runs only if the id is not yet recorded: a
 * redelivery, even a concurrent one, changes nothing. Every event is recorded, applied or not.
 */
export async function applyStripeEvent(db: D1Database, event: StripeEvent, now: Date): Promise<ApplyResult> {
  const orm = drizzle(db);
  if ((await seen(orm, event.id)).length > 0) return { duplicate: true, outcome: "duplicate" };
  const decision = await decide(orm, event, now);
  const record = orm.insert(billingEvents).values({ id: event.id, type: event.type, receivedAt: now }).onConflictDoNothing();
  // The change goes first: it checks that the event is not recorded yet.
  const statements = decision.kind === "change" ? [decision.statement, record] : [record];
  const results = (await orm.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as D1Result[];
  const recorded = results.at(-1)!.meta.changes > 0;
  if (!recorded) return { duplicate: true, outcome: "duplicate" };
  const changed = decision.kind === "change" && results[0]!.meta.changes > 0;
  logOutcome(event, decision, changed);
  if (decision.kind === "ignored") return { duplicate: false, outcome: "ignored" };
  return { duplicate: false, outcome: changed ? "applied" : "stale" };
}
