// Signing up and signing in. Sign-in gives the same answer, after the same work, for an
// unknown email and a wrong password, and is throttled per account and per client address.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { accounts, profiles } from "../../../d1/schema.ts";
import type { SignInThrottle, ThrottleLimits, ThrottleVerdict } from "../../../durable-objects/sign-in-throttle.ts";
import { callDurableObject } from "../bindings/durable-object-retry.ts";
import { ApiError } from "../../../lib/errors.ts";
import { checkNewPassword } from "../../../lib/password-policy.ts";
import { DUMMY_HASH, hashSecret, verifySecret } from "../../../lib/passwords.ts";
import { ACCOUNT_THROTTLE_LIMITS as ACCOUNT_LIMITS, ADDRESS_THROTTLE_LIMITS as ADDRESS_LIMITS } from "./throttle-limits.ts";

type Env = { DB: D1Database; SIGN_IN_THROTTLE: ApiEnv["SIGN_IN_THROTTLE"] };

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${prefix}_${[...bytes].map((b) => b.toString(36).padStart(2, "0")).join("").slice(0, 16)}`;
}

export async function signUp(db: D1Database, emailInput: string, password: string, now: Date): Promise<{ accountId: string }> {
  const email = normaliseEmail(emailInput);
  const policy = checkNewPassword(password, email);
  if (!policy.ok) throw new ApiError("VALIDATION_FAILED", policy.reason, { details: [{ path: "password", message: policy.reason }] });
  const orm = drizzle(db);
  const [existing] = await orm.select({ id: accounts.id }).from(accounts).where(eq(accounts.email, email));
  if (existing) throw new ApiError("CONFLICT", "An account with this email already exists; sign in instead.");
  const accountId = randomId("acc");
  const passwordHash = await hashSecret(password);
  // Every account starts with one profile, named after the email, so it can watch at once.
  const firstProfile = email.split("@")[0]!.slice(0, 40) || "Me";
  try {
    await orm.batch([
      orm.insert(accounts).values({ id: accountId, email, passwordHash, createdAt: now }),
      orm.insert(profiles).values({
        id: randomId("prf"),
        accountId,
        name: firstProfile,
        avatar: "avatar-1",
        language: "en",
        isKids: false,
        maturityLevel: 3,
        pinHash: null,
        createdAt: now,
      }),
    ]);
  } catch (err) {
    // Two sign-ups racing for one email: the unique index decides.
    if (/UNIQUE/i.test(String(err))) throw new ApiError("CONFLICT", "An account with this email already exists; sign in instead.");
    throw err;
  }
  return { accountId };
}

/** The two throttles of a sign-in; every call retried on a retryable error, with a fresh stub each time. */
function throttles(env: Env, email: string, address: string) {
  type Stub = DurableObjectStub<SignInThrottle>;
  const object = (name: string) => {
    // RPC answers are structured clones of the object's plain results, typed here once.
    const call = <T>(what: string, f: (stub: Stub) => Promise<unknown>) =>
      callDurableObject(`SignInThrottle.${what}`, async () => (await f(env.SIGN_IN_THROTTLE.get(env.SIGN_IN_THROTTLE.idFromName(name)) as Stub)) as T);
    return {
      check: (limits: ThrottleLimits, nowMs: number) => call<ThrottleVerdict>("check", (s) => s.check(limits, nowMs)),
      recordFailure: (limits: ThrottleLimits, nowMs: number) => call<ThrottleVerdict>("recordFailure", (s) => s.recordFailure(limits, nowMs)),
      reset: () => call<void>("reset", (s) => s.reset()),
    };
  };
  return { account: object(`account:${email}`), address: object(`ip:${address}`) };
}

function tooMany(retryAfterSec: number): ApiError {
  return new ApiError("RATE_LIMITED", "Too many sign-in attempts. Wait a little and try again.", {
    headers: { "Retry-After": String(retryAfterSec) },
  });
}

/** Throws 401 for a wrong email or password (the same answer for both), 429 when throttled. */
export async function signIn(env: Env, emailInput: string, password: string, address: string, now: Date): Promise<{ accountId: string }> {
  const email = normaliseEmail(emailInput);
  const t = throttles(env, email, address);
  const nowMs = now.getTime();
  const [byAccount, byAddress] = await Promise.all([t.account.check(ACCOUNT_LIMITS, nowMs), t.address.check(ADDRESS_LIMITS, nowMs)]);
  if (!byAccount.ok || !byAddress.ok) {
    throw tooMany(Math.max(byAccount.ok ? 0 : byAccount.retryAfterSec, byAddress.ok ? 0 : byAddress.retryAfterSec));
  }
  const [account] = await drizzle(env.DB).select({ id: accounts.id, passwordHash: accounts.passwordHash }).from(accounts).where(eq(accounts.email, email));
  // An unknown email is checked against a dummy hash: the same work, the same answer.
  const ok = await verifySecret(password, account?.passwordHash ?? DUMMY_HASH);
  if (!account || !ok) {
    await Promise.all([t.account.recordFailure(ACCOUNT_LIMITS, nowMs), t.address.recordFailure(ADDRESS_LIMITS, nowMs)]);
    throw new ApiError("UNAUTHORIZED", "The email or password is incorrect.");
  }
  await t.account.reset();
  return { accountId: account.id };
}
