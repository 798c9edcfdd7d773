// The session check as a request makes it: on the request's D1 session (a nearby read
// replica, at least as new as the client's bookmark), and at the primary when the
// replica has no such session yet; `lastSeenAt` is written on the primary after the
// response.
import type { Context } from "hono";
import { memberDb, memberDbFromPrimary, type MemberDbEnv } from "../d1-sessions/member-db.ts";
import { checkSession, type SessionCheck } from "./sessions.ts";

export async function checkRequestSession<E extends MemberDbEnv>(c: Context<E>, token: string, now: Date): Promise<SessionCheck | null> {
  // On a miss the request's session restarts at the primary, so the reads after the check
  // (the account's profiles, say) are as new as the session row it found there.
  const check = await checkSession(memberDb(c), token, now, { primary: () => memberDbFromPrimary(c), touchDb: c.env.DB });
  if (check?.touch) c.executionCtx.waitUntil(check.touch);
  return check;
}
