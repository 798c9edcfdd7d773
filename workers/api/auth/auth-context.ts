// Who is calling: set by `requireAuth` (workers/api/auth/require-auth.ts) on every route
// that needs a signed-in member, read by routes with `c.get("auth")`.

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
  /** Kids profiles cannot change profiles, the plan or the account. */
  isKidsProfile: boolean;
};
