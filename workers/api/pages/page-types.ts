// What a page knows of who is looking at it: the signed-in member (account, entered
// profile, plan) or nobody, and the page's Hono env. Types only, so that every page and
// the layout can name them without importing the session code (page-session.tsx).
import type { Plan } from "../../../lib/plans.ts";
import type { Auth } from "../auth/auth-context.ts";
import type { AppEnv } from "../env.ts";
import type { MemberDetails } from "./member-details.ts";

export type PageProfile = NonNullable<MemberDetails["profile"]>;

export type PageMember = {
  accountId: string;
  email: string;
  sessionId: string;
  csrfToken: string;
  /** The profile entered on this device, or null ("Who's watching?" comes first). */
  profile: PageProfile | null;
  /** The plan the account may watch on, or null (never chose one, or canceled). */
  plan: Plan | null;
  subscriptionStatus: string | null;
  /** The same caller as the JSON API's guard sees it, for services that take an Auth. */
  auth: Auth;
};

export type PageSession = {
  member: PageMember | null;
  /** The session could not be checked (D1 failed): pages that need it show a notice. */
  unavailable: boolean;
};

export type PageEnv = { Bindings: AppEnv["Bindings"]; Variables: AppEnv["Variables"] & { page: PageSession } };
