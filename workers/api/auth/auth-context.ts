// Who is calling: set by `requireAuth` (workers/api/auth/require-auth.ts) on every route
// that needs a signed-in member, read by routes with `c.get("auth")`.
import { ApiError } from "../../../lib/errors.ts";

export type Auth = {
  accountId: string;
  /** The session's id (the SHA-256 of its token), to end it or list it as "this device". */
  sessionId: string;
  kind: "web" | "device";
  /** The device's label ("Chrome on Linux", or what the device named itself), shown in lists of streams. */
  deviceName: string;
  /** The profile entered on this device, if any. */
  profileId: string | null;
  /** Every profile of the account (read with the session, no extra query). */
  accountProfileIds: string[];
  /** The account's profiles with a PIN (read with the session, no extra query). */
  lockedProfileIds: string[];
  /** Kids profiles cannot change profiles, the plan or the account. */
  isKidsProfile: boolean;
};

/**
 * A profile with a PIN is reached only from a device that entered it with the PIN: its
 * viewing, its rows, its list and thumbs, its events, and changing or deleting it. Other
 * devices of the account may see that it exists ("Who's watching?") and enter it.
 */
export function refuseLockedProfile(auth: Pick<Auth, "lockedProfileIds" | "profileId">, profileId: string): void {
  if (auth.profileId !== profileId && auth.lockedProfileIds.includes(profileId)) {
    throw new ApiError("FORBIDDEN", "This profile is locked: enter it with its PIN on this device first.", { details: { reason: "profile_locked" } });
  }
}
