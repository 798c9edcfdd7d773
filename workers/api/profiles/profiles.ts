// Profiles of an account: up to five; kids profiles capped at a kids' maturity level; an
// optional 4-digit PIN (hashed like a password) needed to enter a profile.
import { and, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { profiles, sessions } from "../../../d1/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import { KIDS_MAX_LEVEL } from "../../../lib/maturity.ts";
import { hashSecret, verifySecret } from "../../../lib/passwords.ts";
import type { ThrottleLimits } from "../../../durable-objects/sign-in-throttle.ts";
import { enterProfile, forgetProfileEntries } from "../auth/sessions.ts";
import { drizzleOf, type D1Queryable } from "../d1-sessions/queryable.ts";
import { releaseAll, throttleKey, tooManyAttempts } from "../auth/throttles.ts";

export const MAX_PROFILES = 5;

/** Wrong PINs per profile before it locks for a while: a 4-digit PIN falls to guessing otherwise. */
export const PIN_THROTTLE_LIMITS: ThrottleLimits = { maxFailures: 5, windowSec: 15 * 60 };

const pin = z.string().regex(/^\d{4}$/, "a PIN is 4 digits");

export const newProfileSchema = z.object({
  name: z.string().trim().min(1).max(50),
  avatar: z.string().regex(/^[a-z0-9-]{1,32}$/).default("avatar-1"),
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).default("en"),
  isKids: z.boolean().default(false),
  maturityLevel: z.number().int().min(0).max(3).optional(),
  pin: pin.optional(),
  /** "Skip intros automatically" (intros and recaps; never credits). */
  autoSkipIntros: z.boolean().default(false),
});

export const profileChangesSchema = z
  .object({
    name: z.string().trim().min(1).max(50),
    avatar: z.string().regex(/^[a-z0-9-]{1,32}$/),
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/),
    isKids: z.boolean(),
    maturityLevel: z.number().int().min(0).max(3),
    /** A new PIN, or null to remove it. Changing or removing a PIN needs `currentPin` or `password`. */
    pin: pin.nullable(),
    /** The profile's PIN as it is now: proof for changing or removing it. */
    currentPin: z.string().max(8),
    /** The account's password: proof instead of the PIN (a forgotten PIN), and the way in for a device that did not enter the profile. */
    password: z.string().min(1).max(1024),
    autoSkipIntros: z.boolean(),
  })
  .partial();

export type ProfileRow = typeof profiles.$inferSelect;

/** A profile as clients see it: never the PIN hash, only whether there is one. */
export function publicProfile(p: ProfileRow) {
  return {
    id: p.id,
    name: p.name,
    avatar: p.avatar,
    language: p.language,
    isKids: p.isKids,
    maturityLevel: p.maturityLevel,
    hasPin: p.pinHash !== null,
    autoSkipIntros: p.autoSkipIntros,
  };
}

function levelFor(isKids: boolean, requested: number | undefined, current?: number): number {
  const level = requested ?? current ?? (isKids ? KIDS_MAX_LEVEL : 3);
  if (isKids && level > KIDS_MAX_LEVEL) {
    throw new ApiError("VALIDATION_FAILED", `A kids profile's maturity level is at most ${KIDS_MAX_LEVEL}.`, {
      details: [{ path: "maturityLevel", message: `at most ${KIDS_MAX_LEVEL} for a kids profile` }],
    });
  }
  return level;
}

export async function listProfiles(db: D1Queryable, accountId: string) {
  const rows = await drizzleOf(db).select().from(profiles).where(eq(profiles.accountId, accountId)).orderBy(profiles.createdAt);
  return rows.map(publicProfile);
}

/** The account's profile `id`, or 404 — also for another account's profile. */
async function ownProfile(db: D1Queryable, accountId: string, id: string): Promise<ProfileRow> {
  const [row] = await drizzleOf(db)
    .select()
    .from(profiles)
    .where(and(eq(profiles.id, id), eq(profiles.accountId, accountId)));
  if (!row) throw new ApiError("NOT_FOUND", "No such profile.");
  return row;
}

/**
 * Adds a profile unless the account has MAX_PROFILES already, in ONE statement: the count
 * is the insert's own condition, and D1 runs one write at a time, so twelve creates sent
 * at once make exactly as many profiles as are missing. (A count read before the insert
 * let a burst through: 12 parallel creates made 6 profiles.)
 */
export async function createProfile(db: D1Queryable, accountId: string, input: z.infer<typeof newProfileSchema>, now: Date) {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const row: ProfileRow = {
    id: `prf_${[...bytes].map((b) => b.toString(36).padStart(2, "0")).join("").slice(0, 16)}`,
    accountId,
    name: input.name,
    avatar: input.avatar,
    language: input.language,
    isKids: input.isKids,
    maturityLevel: levelFor(input.isKids, input.maturityLevel),
    pinHash: input.pin ? await hashSecret(input.pin) : null,
    autoSkipIntros: input.autoSkipIntros,
    createdAt: now,
  };
  const inserted = await db
    .prepare(
      `INSERT INTO profiles (id, account_id, name, avatar, language, is_kids, maturity_level, pin_hash, auto_skip_intros, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?11, ?9
       WHERE (SELECT COUNT(*) FROM profiles WHERE account_id = ?2) < ?10`,
    )
    .bind(row.id, accountId, row.name, row.avatar, row.language, row.isKids ? 1 : 0, row.maturityLevel, row.pinHash, now.getTime(), MAX_PROFILES, row.autoSkipIntros ? 1 : 0)
    .run();
  if (inserted.meta.changes === 0) throw new ApiError("CONFLICT", `An account has at most ${MAX_PROFILES} profiles.`);
  return publicProfile(row);
}

/** Who asks for a change, and what they can show for it. */
export type ChangeCaller = {
  /** The device's sign-in session: it stays in the profile when the PIN changes. */
  sessionId: string;
  /** The profile this device entered (with the PIN, if it has one). */
  enteredProfileId: string | null;
  /** `isAccountPassword` bound to the caller's client, so a password check is throttled like a sign-in. */
  checkPassword: (password: string) => Promise<boolean>;
};

/**
 * Changes a profile. Changing or removing its PIN needs the current PIN or the account
 * password (a device that entered the profile once must not keep the power to change
 * the PIN without knowing it), and so does any change from a device that did not enter a
 * PIN-locked profile. Setting or changing a PIN signs every other device out of the
 * profile in the same D1 batch, so nobody inside keeps a way in the new PIN was meant to
 * close.
 */
export async function updateProfile(env: PinEnv, accountId: string, id: string, changes: z.infer<typeof profileChangesSchema>, caller: ChangeCaller) {
  const current = await ownProfile(env.DB, accountId, id);
  const locked = current.pinHash !== null;
  const changesPin = changes.pin !== undefined && locked;
  if (changes.password !== undefined) {
    if (!(await caller.checkPassword(changes.password))) {
      throw new ApiError("FORBIDDEN", "That password is not right.", { details: { reason: "wrong_password" } });
    }
  } else if (locked && caller.enteredProfileId !== id) {
    throw new ApiError("FORBIDDEN", "This profile is locked: enter it with its PIN on this device first, or give the account password.", { details: { reason: "profile_locked" } });
  } else if (changesPin) {
    if (changes.currentPin === undefined) {
      throw new ApiError("FORBIDDEN", "Changing or removing a PIN needs the current PIN (currentPin) or the account password (password).", { details: { reason: "pin_required" } });
    }
    await checkPin(env, current, changes.currentPin);
  }
  const isKids = changes.isKids ?? current.isKids;
  const next: Partial<ProfileRow> = {
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.avatar !== undefined ? { avatar: changes.avatar } : {}),
    ...(changes.autoSkipIntros !== undefined ? { autoSkipIntros: changes.autoSkipIntros } : {}),
    ...(changes.language !== undefined ? { language: changes.language } : {}),
    isKids,
    // Turning a profile into a kids profile lowers its level unless a level is given.
    maturityLevel: levelFor(isKids, changes.maturityLevel, changes.isKids && current.maturityLevel > KIDS_MAX_LEVEL ? KIDS_MAX_LEVEL : current.maturityLevel),
    ...(changes.pin !== undefined ? { pinHash: changes.pin === null ? null : await hashSecret(changes.pin) } : {}),
  };
  const orm = drizzleOf(env.DB);
  const update = orm.update(profiles).set(next).where(eq(profiles.id, id));
  if (typeof changes.pin === "string") {
    await orm.batch([update, orm.update(sessions).set({ profileId: null }).where(and(eq(sessions.profileId, id), ne(sessions.id, caller.sessionId)))]);
    forgetProfileEntries(id, caller.sessionId);
  } else {
    await update;
  }
  return publicProfile({ ...current, ...next });
}

/**
 * A playback preference of the profile this device is in, which a kids profile may set
 * too (it changes nothing anyone else sees): the web app's profile settings form.
 */
export async function setAutoSkipIntros(db: D1Queryable, accountId: string, id: string, on: boolean): Promise<void> {
  const result = await db.prepare(`UPDATE profiles SET auto_skip_intros = ?3 WHERE id = ?1 AND account_id = ?2`).bind(id, accountId, on ? 1 : 0).run();
  if (result.meta.changes === 0) throw new ApiError("NOT_FOUND", "No such profile.");
}

export async function deleteProfile(db: D1Queryable, accountId: string, id: string): Promise<void> {
  await ownProfile(db, accountId, id);
  const orm = drizzleOf(db);
  // Devices that had entered it go back to "Who's watching?".
  await orm.batch([
    orm.update(sessions).set({ profileId: null }).where(eq(sessions.profileId, id)),
    orm.delete(profiles).where(eq(profiles.id, id)),
  ]);
}

export type PinEnv = { DB: D1Queryable; SIGN_IN_THROTTLE: ApiEnv["SIGN_IN_THROTTLE"] };

/**
 * Checks a locked profile's PIN under its throttle: the attempt is reserved before the
 * PBKDF2 and given back only when the PIN is right, so 19 wrong PINs and the right one
 * sent at once get exactly PIN_THROTTLE_LIMITS.maxFailures checks, the right one among
 * them or refused. A right PIN does not clear the count: someone who was told the PIN
 * must not wipe the guesses another device of the account made.
 */
async function checkPin(env: PinEnv, profile: ProfileRow, given: string | undefined): Promise<void> {
  const key = throttleKey(env, `pin:${profile.id}`);
  const reserved = await key.reserve(PIN_THROTTLE_LIMITS, Date.now());
  if (!reserved.ok) throw tooManyAttempts("Too many wrong PINs. Wait a little and try again.", reserved.retryAfterSec);
  if (given === undefined || !(await verifySecret(given, profile.pinHash!))) {
    throw new ApiError("FORBIDDEN", "That PIN is not right.", { details: { reason: "wrong_pin" } });
  }
  await releaseAll([{ key, attemptId: reserved.attemptId }]);
}

/** Enters a profile on this device: its PIN first, if it has one. */
export async function enterProfileWithPin(env: PinEnv, accountId: string, sessionId: string, id: string, given: string | undefined) {
  const profile = await ownProfile(env.DB, accountId, id);
  if (profile.pinHash !== null) await checkPin(env, profile, given);
  await enterProfile(env.DB, sessionId, profile.id);
  return publicProfile(profile);
}
