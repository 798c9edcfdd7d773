// What `GET /v1/me` says about the caller: account, plan and subscription, profiles.
import { eq } from "drizzle-orm";
import { accounts, profiles, subscriptions } from "../../../d1/schema.ts";
import { planById } from "../../../lib/plans.ts";
import { drizzleOf, type D1Queryable } from "../d1-sessions/queryable.ts";
import type { Auth } from "./auth-context.ts";
import { publicProfile } from "../profiles/profiles.ts";

export async function describeAccount(db: D1Queryable, auth: Auth) {
  const orm = drizzleOf(db);
  // One round trip for the three reads.
  const [[account], subs, profileRows] = await orm.batch([
    orm.select({ id: accounts.id, email: accounts.email, createdAt: accounts.createdAt }).from(accounts).where(eq(accounts.id, auth.accountId)),
    orm.select().from(subscriptions).where(eq(subscriptions.accountId, auth.accountId)),
    orm.select().from(profiles).where(eq(profiles.accountId, auth.accountId)).orderBy(profiles.createdAt),
  ]);
  const sub = subs[0];
  return {
    account: { id: account!.id, email: account!.email, createdAt: account!.createdAt.toISOString() },
    subscription: sub ? { planId: sub.planId, status: sub.status, currentPeriodEnd: sub.currentPeriodEnd?.toISOString() ?? null } : { status: "none" as const },
    plan: sub && sub.status !== "canceled" ? (planById(sub.planId) ?? null) : null,
    profiles: profileRows.map(publicProfile),
    session: { id: auth.sessionId, kind: auth.kind, profileId: auth.profileId },
  };
}
