// The pages' forms when no script runs: sign up, sign in, sign out and add a profile as
// plain form posts. With a script (web/scripts/app/) the same forms go to the JSON API and
// these are never used. Every one refuses a cross-site post: sign-up and sign-in by the
// Origin header (there is no session yet), the others by the session's CSRF token too.
// Their writes go through the request's D1 session (memberDb), so the bookmark cookie on
// the redirect makes the page it leads to read them.
import type { Context } from "hono";
import { z } from "zod";
import { constantTimeEqual } from "../../../lib/constant-time.ts";
import { ApiError } from "../../../lib/errors.ts";
import { signIn, signUp } from "../auth/accounts.ts";
import { deviceLabel } from "../auth/device-label.ts";
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from "../auth/session-cookie.ts";
import { createSession, endSession } from "../auth/sessions.ts";
import { csrfTokenFor } from "../auth/session-tokens.ts";
import { memberDb } from "../d1-sessions/member-db.ts";
import { createProfile, newProfileSchema, setAutoSkipIntros } from "../profiles/profiles.ts";
import type { PageEnv, PageMember } from "./page-types.ts";

export type FormOutcome = { ok: true; next?: string | null } | { ok: false; status: 400 | 401 | 403 | 409 | 429 | 503; message: string; email?: string };

/**
 * Where to go after signing in (`/login?next=/watch/…`): a path on this site only — never
 * `//host` or `/\host`, which browsers read as another site.
 */
export function safeNext(value: string | undefined | null): string | null {
  if (!value || value.length > 512 || !value.startsWith("/") || value.startsWith("//") || /[\\\u0000-\u001f]/.test(value)) return null;
  return value;
}

/** A form post from one of our own pages: the browser says where it came from. */
export function fromOurOrigin(c: Context<PageEnv>): boolean {
  const origin = c.req.header("origin");
  if (origin) return origin === new URL(c.req.url).origin;
  // Browsers too old to send Origin on a form post still send Sec-Fetch-Site, or neither.
  return c.req.header("sec-fetch-site") === "same-origin";
}

const credentials = z.object({ email: z.string().trim().email().max(254), password: z.string().min(1).max(1024) });

async function formFields(c: Context<PageEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => ({}));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}


function refused(err: unknown, email?: string): FormOutcome {
  if (err instanceof ApiError && err.status < 500) {
    const status = ([400, 401, 403, 409, 429] as const).find((s) => s === err.status) ?? 400;
    const details = Array.isArray(err.details) ? (err.details as { message?: string }[]).map((d) => d.message).filter(Boolean) : [];
    return { ok: false, status, message: details.length > 0 && err.code === "VALIDATION_FAILED" ? details.join(" ") : err.message, email };
  }
  throw err;
}

export async function signInByForm(c: Context<PageEnv>, mode: "signup" | "login"): Promise<FormOutcome> {
  if (!fromOurOrigin(c)) return { ok: false, status: 403, message: "This form must be sent from Marquee's own page." };
  const fields = await formFields(c);
  const parsed = credentials.safeParse(fields);
  if (!parsed.success) return { ok: false, status: 400, message: "Enter a valid email address and a password.", email: fields.email?.slice(0, 254) };
  const { email, password } = parsed.data;
  const now = new Date();
  try {
    const { accountId } =
      mode === "signup" ? await signUp(c.env, email, password, c.req.header("cf-connecting-ip"), now) : await signIn(c.env, email, password, c.req.header("cf-connecting-ip"), now);
    const session = await createSession(memberDb(c), accountId, "web", deviceLabel(c.req.header("user-agent") ?? ""), now);
    writeSessionCookie(c, session.token, session.expiresAt);
    return { ok: true, next: mode === "login" ? safeNext(fields.next) : null };
  } catch (err) {
    if (err instanceof ApiError && err.code === "RATE_LIMITED") {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    }
    return refused(err, email);
  }
}

/** The member's own form: from our origin, with the CSRF token the page was given. */
async function memberForm(c: Context<PageEnv>): Promise<Record<string, string> | null> {
  const cookie = readSessionCookie(c);
  if (!cookie || !fromOurOrigin(c)) return null;
  const fields = await formFields(c);
  return (await constantTimeEqual(fields.csrf ?? "", await csrfTokenFor(cookie))) ? fields : null;
}

export async function signOutByForm(c: Context<PageEnv>, member: PageMember | null): Promise<boolean> {
  if (!member || !(await memberForm(c))) return false;
  await endSession(memberDb(c), member.accountId, member.sessionId);
  clearSessionCookie(c);
  return true;
}

export async function addProfileByForm(c: Context<PageEnv>, member: PageMember): Promise<FormOutcome> {
  const fields = await memberForm(c);
  if (!fields) return { ok: false, status: 403, message: "This form must be sent from Marquee's own page." };
  if (member.profile?.isKids) return { ok: false, status: 403, message: "A kids profile cannot add profiles." };
  const parsed = newProfileSchema.safeParse({ name: fields.name ?? "", isKids: fields.isKids === "true", ...(fields.pin ? { pin: fields.pin } : {}) });
  if (!parsed.success) return { ok: false, status: 400, message: parsed.error.issues.map((i) => `${i.path.join(".") || "profile"}: ${i.message}`).join(" ") };
  try {
    await createProfile(memberDb(c), member.accountId, parsed.data, new Date());
    return { ok: true };
  } catch (err) {
    return refused(err);
  }
}

/** The profile entered on this device: its playback settings ("skip intros automatically"). */
export async function playbackSettingsByForm(c: Context<PageEnv>, member: PageMember): Promise<FormOutcome> {
  const fields = await memberForm(c);
  if (!fields) return { ok: false, status: 403, message: "This form must be sent from Marquee's own page." };
  if (!member.profile) return { ok: false, status: 400, message: "Choose who is watching first." };
  try {
    await setAutoSkipIntros(memberDb(c), member.accountId, member.profile.id, fields.autoSkipIntros === "true");
    return { ok: true };
  } catch (err) {
    return refused(err);
  }
}
