// A stream started on the title page as the viewer moves to press Play (prepare.ts), handed
// to the watch page through this tab's sessionStorage at the press. Both pages know the
// format from here alone. docs/web-app.md, "Play on intent".
import type { StartedPlayback } from "../../../lib/playback-session.ts";

/** What the watch page needs to take over: the stream, or (still on its way) the id that names it. */
export type Handoff = {
  v: 1;
  titleId: string;
  /** The episode the Play link asked for (null: the server's choice, as on the watch page). */
  episodeId: string | null;
  profileId: string;
  /** The start's clientSessionId: Play again with it and the server answers the same stream. */
  clientSessionId: string;
  /** Date.now() when the start was sent: the prepared lease counts from about then. */
  sentAt: number;
  /** The Play answer, or null when the press came before it. */
  session: StartedPlayback | null;
};

const KEY = "marquee:play-handoff";

/**
 * How old a handoff may be and still be taken: less than the prepared lease's 20 s
 * (PREPARED_LEASE_TTL_MS), with room for the page load and the confirming heartbeat.
 */
export const HANDOFF_MAX_AGE_MS = 12_000;

export function leaveHandoff(handoff: Handoff): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(handoff));
  } catch {
    // Storage full or refused: the watch page starts its own stream.
  }
}

/**
 * The handoff for this watch page, if there is a fresh one for the same title, episode
 * and profile; it is removed either way, so it is taken at most once (a reload starts anew).
 */
export function takeHandoff(want: { titleId: string; episodeId: string | null; profileId: string | null }, now = Date.now()): Handoff | null {
  let raw: string | null = null;
  try {
    raw = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
  } catch {
    return null;
  }
  if (raw === null || raw.length > 256 * 1024) return null;
  let h: Partial<Handoff>;
  try {
    h = JSON.parse(raw) as Partial<Handoff>;
  } catch {
    return null;
  }
  const fresh = typeof h.sentAt === "number" && now - h.sentAt >= 0 && now - h.sentAt <= HANDOFF_MAX_AGE_MS;
  const same = h.v === 1 && h.titleId === want.titleId && (h.episodeId ?? null) === want.episodeId && h.profileId === want.profileId;
  if (!fresh || !same || typeof h.clientSessionId !== "string") return null;
  const session = h.session && h.session.titleId === want.titleId ? h.session : null;
  return { ...(h as Handoff), session };
}
