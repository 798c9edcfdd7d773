// Signing up and signing in. Sign-in gives the same answer, after the same work, for an
// unknown email and a wrong password, and is throttled per (account, client), per client
// and per account (throttle-limits.ts); sign-up is throttled per client. Both read the
// account on the primary (`env.DB`, never a read replica): an account made a moment ago
// signs in at once, and a replica's lag is never counted as a wrong password.
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { accounts, profiles } from "../../../d1/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import { checkNewPassword } from "../../../lib/password-policy.ts";
import { DUMMY_HASH, hashSecret, verifySecret } from "../../../lib/passwords.ts";
import { clientId, clientOf } from "./client-address.ts";
import {
  ACCOUNT_THROTTLE_LIMITS as ACCOUNT_LIMITS,
  ADDRESS_THROTTLE_LIMITS as ADDRESS_LIMITS,
  PAIR_THROTTLE_LIMITS as PAIR_LIMITS,
  SIGNUP_THROTTLE_LIMITS as SIGNUP_LIMITS,
} from "./throttle-limits.ts";
import { releaseAll, reserveAll, throttleKey, tooManyAttempts } from "./throttles.ts";

type Env = { DB: D1Database; SIGN_IN_THROTTLE: ApiEnv["SIGN_IN_THROTTLE"] };

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${prefix}_${[...bytes].map((b) => b.toString(36).padStart(2, "0")).join("").slice(0, 16)}`;
}

/**
 * Creates the account, once the client's sign-up is reserved: accounts made per client
 * are what is limited, so the reservation is kept whatever happens next (a taken email
 * costs one too, or the limit would be a free oracle of which emails have accounts).
 */
export async function signUp(env: Env, emailInput: string, password: string, connectingIp: string | undefined, now: Date): Promise<{ accountId: string }> {
  const email = normaliseEmail(emailInput);
  const policy = checkNewPassword(password, email);
  if (!policy.ok) throw new ApiError("VALIDATION_FAILED", policy.reason, { details: [{ path: "password", message: policy.reason }] });
  const client = await clientId(clientOf(connectingIp));
  const reserved = await throttleKey(env, `signup:${client}`).reserve(SIGNUP_LIMITS, now.getTime());
  if (!reserved.ok) throw tooManyAttempts("Too many accounts were made from here lately. Wait a little and try again.", reserved.retryAfterSec);
  const orm = drizzle(env.DB);
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

/** The throttle keys of one sign-in (throttle-limits.ts says why three). */
function signInKeys(env: Env, email: string, clientHash: string) {
  return {
    pair: throttleKey(env, `pair:${email}|${clientHash}`),
    client: throttleKey(env, `ip:${clientHash}`),
    account: throttleKey(env, `account:${email}`),
  };
}

const TOO_MANY_SIGN_INS = "Too many sign-in attempts. Wait a little and try again.";

/**
 * Checks an email and password under the sign-in throttles: the attempt is reserved on
 * every key before the password is checked, so a burst sent in parallel gets exactly as
 * many checks as the limits allow; a right password gives its reservations back (and
 * makes this client one the account recognises), a wrong one leaves them counted. Throws
 * 429 when throttled; null for a wrong email or password, after the same work for both.
 */
async function checkPassword(env: Env, email: string, password: string, connectingIp: string | undefined, now: Date): Promise<{ accountId: string } | null> {
  const clientHash = await clientId(clientOf(connectingIp));
  const keys = signInKeys(env, email, clientHash);
  const nowMs = now.getTime();
  const reserved = await reserveAll(
    [
      [{ key: keys.pair, limits: PAIR_LIMITS }],
      [
        { key: keys.client, limits: ADDRESS_LIMITS },
        { key: keys.account, limits: ACCOUNT_LIMITS, client: clientHash },
      ],
    ],
    nowMs,
  );
  if (!reserved.ok) throw tooManyAttempts(TOO_MANY_SIGN_INS, reserved.retryAfterSec);
  const [account] = await drizzle(env.DB)
    .select({ id: accounts.id, passwordHash: accounts.passwordHash })
    .from(accounts)
    .where(eq(accounts.email, email))
    .catch(async (err: unknown) => {
      // D1 failed before any password was checked: the attempt did not happen.
      await releaseAll(reserved.held);
      throw err;
    });
  // An unknown email is checked against a dummy hash: the same work, the same answer.
  const ok = await verifySecret(password, account?.passwordHash ?? DUMMY_HASH);
  if (!account || !ok) return null;
  await releaseAll(reserved.held, { client: clientHash, nowMs, keys: [keys.account] });
  return { accountId: account.id };
}

/** Throws 401 for a wrong email or password (the same answer for both), 429 when throttled. */
export async function signIn(env: Env, emailInput: string, password: string, connectingIp: string | undefined, now: Date): Promise<{ accountId: string }> {
  const signedIn = await checkPassword(env, normaliseEmail(emailInput), password, connectingIp, now);
  if (!signedIn) throw new ApiError("UNAUTHORIZED", "The email or password is incorrect.");
  return signedIn;
}

/**
 * Whether `password` is the account's, for actions that ask for it again (removing a
 * forgotten PIN): under the same throttles as signing in, so it is no unthrottled oracle.
 */
export async function isAccountPassword(env: Env, accountId: string, password: string, connectingIp: string | undefined, now: Date): Promise<boolean> {
  const [row] = await drizzle(env.DB).select({ email: accounts.email }).from(accounts).where(eq(accounts.id, accountId));
  if (!row) return false;
  return (await checkPassword(env, row.email, password, connectingIp, now))?.accountId === accountId;
}
