// What a page shows about the signed-in member beyond the session check: the account's
// email and the entered profile's name and avatar. Keyed by the session id, so it runs
// beside checkSession (one round trip for both), never after it — except when the
// replica it read had not got the session yet (page-session.tsx).
import type { D1Queryable } from "../d1-sessions/queryable.ts";

export type MemberDetails = {
  email: string;
  profile: { id: string; name: string; avatar: string; isKids: boolean; maturityLevel: number } | null;
};

type Row = {
  email: string;
  profile_id: string | null;
  profile_name: string | null;
  avatar: string | null;
  is_kids: number | null;
  maturity_level: number | null;
};

export async function memberDetails(db: D1Queryable, sessionId: string): Promise<MemberDetails | null> {
  const row = await db
    .prepare(
      `SELECT a.email, p.id AS profile_id, p.name AS profile_name, p.avatar, p.is_kids, p.maturity_level
       FROM sessions s
       JOIN accounts a ON a.id = s.account_id
       LEFT JOIN profiles p ON p.id = s.profile_id AND p.account_id = s.account_id
       WHERE s.id = ?1`,
    )
    .bind(sessionId)
    .first<Row>();
  if (!row) return null;
  return {
    email: row.email,
    profile:
      row.profile_id === null
        ? null
        : { id: row.profile_id, name: row.profile_name ?? "", avatar: row.avatar ?? "avatar-1", isKids: row.is_kids === 1, maturityLevel: row.maturity_level ?? 0 },
  };
}
