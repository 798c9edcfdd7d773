// Profiles of an account: up to five; kids profiles capped at a kids' maturity level; an
// optional 4-digit PIN (hashed like a password) needed to enter a profile.
import { and, count, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { profiles, sessions } from "../../../d1/schema.ts";
import { ApiError } from "../../../lib/errors.ts";
import { KIDS_MAX_LEVEL } from "../../../lib/maturity.ts";
import { hashSecret, verifySecret } from "../../../lib/passwords.ts";
import type { ThrottleLimits } from "../../../durable-objects/sign-in-throttle.ts";

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
});

export const profileChangesSchema = z
  .object({
    name: z.string().trim().min(1).max(50),
    avatar: z.string().regex(/^[a-z0-9-]{1,32}$/),
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/),
    isKids: z.boolean(),
    maturityLevel: z.number().int().min(0).max(3),
    /** A new PIN, or null to remove it. */
    pin: pin.nullable(),
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

export async function listProfiles(db: D1Database, accountId: string) {
  const rows = await drizzle(db).select().from(profiles).where(eq(profiles.accountId, accountId)).orderBy(profiles.createdAt);
  return rows.map(publicProfile);
}

/** The account's profile `id`, or 404 — also for another account's profile. */
async function ownProfile(db: D1Database, accountId: string, id: string): Promise<ProfileRow> {
  const [row] = await drizzle(db)
    .select()
    .from(profiles)
    .where(and(eq(profiles.id, id), eq(profiles.accountId, accountId)));
  if (!row) throw new ApiError("NOT_FOUND", "No such profile.");
  return row;
}

export async function createProfile(db: D1Database, accountId: string, input: z.infer<typeof newProfileSchema>, now: Date) {
  const orm = drizzle(db);
  const [{ n }] = (await orm.select({ n: count() }).from(profiles).where(eq(profiles.accountId, accountId))) as [{ n: number }];
  if (n >= MAX_PROFILES) throw new ApiError("CONFLICT", `An account has at most ${MAX_PROFILES} profiles.`);
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
    createdAt: now,
  };
  await orm.insert(profiles).values(row);
  return publicProfile(row);
}

export async function updateProfile(db: D1Database, accountId: string, id: string, changes: z.infer<typeof profileChangesSchema>) {
  const current = await ownProfile(db, accountId, id);
  const isKids = changes.isKids ?? current.isKids;
  const next: Partial<ProfileRow> = {
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.avatar !== undefined ? { avatar: changes.avatar } : {}),
    ...(changes.language !== undefined ? { language: changes.language } : {}),
    isKids,
    // Turning a profile into a kids profile lowers its level unless a level is given.
    maturityLevel: levelFor(isKids, changes.maturityLevel, changes.isKids && current.maturityLevel > KIDS_MAX_LEVEL ? KIDS_MAX_LEVEL : current.maturityLevel),
    ...(changes.pin !== undefined ? { pinHash: changes.pin === null ? null : await hashSecret(changes.pin) } : {}),
  };
  await drizzle(db).update(profiles).set(next).where(eq(profiles.id, id));
  return publicProfile({ ...current, ...next });
}

export async function deleteProfile(db: D1Database, accountId: string, id: string): Promise<void> {
  await ownProfile(db, accountId, id);
  const orm = drizzle(db);
  // Devices that had entered it go back to "Who's watching?".
  await orm.batch([
    orm.update(sessions).set({ profileId: null }).where(eq(sessions.profileId, id)),
    orm.delete(profiles).where(eq(profiles.id, id)),
  ]);
}

/** Checks the PIN (if the profile has one); the caller records the result with the throttle. */
export async function checkProfilePin(db: D1Database, accountId: string, id: string, given: string | undefined) {
  const profile = await ownProfile(db, accountId, id);
  if (profile.pinHash === null) return { profile, ok: true };
  return { profile, ok: given !== undefined && (await verifySecret(given, profile.pinHash)) };
}
