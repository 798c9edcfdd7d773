// Watch together: the protocol between a party's members and its Durable Object
// (durable-objects/watch-party.ts), and the arithmetic that keeps their players together.
// One definition for both ends: the browser's client (web/scripts/party/) and the object
// share these message types, limits and functions, so a message one side writes is one
// the other side accepts. The zod schemas that validate what clients send are in
// watch-party-schema.ts, checked against these types; they are apart because zod never
// reaches a browser bundle (tools/build-web.ts). The protocol is in docs/watch-party.md.
import { base64UrlDecode } from "./base64url.ts";

export const PARTY_LIMITS = {
  /** Members at once, counting those within their reconnect grace. */
  maxMembers: 8,
  /** A message is refused unread past this many UTF-16 code units (every valid message is far smaller). */
  maxMessageChars: 512,
  /** The longest a party lives; its invite is valid until then. */
  maxLifetimeMs: 24 * 3600_000,
  /** A party nobody is in ends this long after the last member left. */
  emptyLifetimeMs: 30 * 60_000,
  /** A dropped member (network, reload) keeps their place, and a host the controls, this long. */
  reconnectGraceMs: 15_000,
  /** Every message: a token bucket per member. */
  messages: { burst: 20, perSec: 10 },
  /** Reactions on top of that. */
  reactions: { burst: 3, perSec: 0.5 },
  /** Refused messages in a row after which the socket is closed (1008). */
  maxRefusedInARow: 50,
} as const;

/** The fixed set of reactions a member can send. */
export const REACTIONS = ["👍", "😂", "😮", "😢", "❤️", "🔥", "👏", "🍿"] as const;
export type Reaction = (typeof REACTIONS)[number];

/** Speeds the party can play at (the host's choice; drift nudges stay within ±5 % of it). */
export const PARTY_RATES = [0.5, 0.75, 1, 1.25, 1.5, 2] as const;

/** How far apart players may be before one seeks instead of nudging its rate. */
export const SEEK_THRESHOLD_SEC = 1;
/** The most a player's rate is nudged away from the party's to catch up or fall back. */
export const MAX_RATE_NUDGE = 0.05;
/** Drift below this is left alone: rate changes have a cost of their own. */
export const DRIFT_DEADBAND_SEC = 0.04;
/** How many round trips a client times to estimate its clock's offset from the party's. */
export const CLOCK_SAMPLES = 6;
/** A client reports its position and whether it is stalled this often while playing. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/**
 * The keep-alive a client sends while nothing happens: the object answers it without
 * waking (setWebSocketAutoResponse), so an idle party costs nothing.
 */
export const KEEPALIVE = { request: "ka", response: "ka" } as const;
export const KEEPALIVE_INTERVAL_MS = 25_000;

/**
 * Close codes the object uses (4000-4999 are the application's). After these, and after
 * 1008 (too many refused messages in a row), a client does not reconnect; after any other
 * close it does, with the same playback session.
 */
export const PARTY_CLOSE = {
  /** The party is over (24 h reached, or it stood empty). */
  ended: 4001,
  /** The same member connected again elsewhere (a second tab): this socket gives way. */
  replaced: 4009,
  /** The member left with a `leave` message. */
  left: 4010,
} as const;

// ---- ids ------------------------------------------------------------------------------

const PARTY_ID = /^pty_([A-Za-z0-9_-]{22})$/;

/** A party id as the api hands them out: `pty_` and 16 random bytes in canonical base64url. */
export function isPartyId(text: string): boolean {
  const m = PARTY_ID.exec(text);
  return m !== null && base64UrlDecode(m[1]!)?.length === 16;
}

// ---- what clients send (validated by watch-party-schema.ts) ----------------------------

export type PartyRate = (typeof PARTY_RATES)[number];

export type ClientMessage =
  /** A clock sample: `c` is the client's clock when sent; answered by `pong`. */
  | { t: "ping"; c: number }
  /** Play from `pos` (the sender's player position, seconds). */
  | { t: "play"; pos: number }
  /** Pause at `pos`. */
  | { t: "pause"; pos: number }
  /** Jump to `pos`, keeping playing or paused. */
  | { t: "seek"; pos: number }
  /** The party's speed. */
  | { t: "rate"; rate: PartyRate }
  /** Asks for the current state again (after a reload of the player, say). */
  | { t: "state" }
  /** Where the sender's player is and whether it is stalled; every HEARTBEAT_INTERVAL_MS while playing, and at once when a stall starts or ends. */
  | { t: "heartbeat"; pos: number; buffering: boolean }
  | { t: "reaction"; emoji: Reaction }
  /** Leaving for good (the socket closes; a drop keeps the member's place for reconnectGraceMs). */
  | { t: "leave" }
  /** Host only: who controls playback, and whether a stalled member pauses everyone. */
  | { t: "settings"; control?: PartyControl; waitForEveryone?: boolean }
  /** Host only: hand the host's role to another member. */
  | { t: "host"; to: string };

// ---- what the object sends ------------------------------------------------------------

/**
 * The authoritative playback state: at the object's clock `at` (ms since the epoch) the
 * party's position was `pos`, playing at `rate` if `playing` and nobody it waits for is
 * stalled. `seq` grows with every change, so a client can drop a stale one.
 */
export type PartyState = { playing: boolean; pos: number; at: number; rate: number; seq: number; waitingFor: string[] };

export type PartyMember = {
  id: string;
  name: string;
  avatar: string;
  /** False while the member is within their reconnect grace. */
  present: boolean;
  buffering: boolean;
  joinedAt: number;
};

export type PartyControl = "host" | "everyone";

/** What `GET /v1/parties/{id}` answers and `welcome` carries. */
export type PartyInfo = {
  partyId: string;
  titleId: string;
  episodeId: string | null;
  /** "First Light", or "Second Wind: S1 E2 Relapse". */
  title: string;
  durationSec: number;
  hostId: string | null;
  hostName: string;
  control: PartyControl;
  waitForEveryone: boolean;
  members: number;
  full: boolean;
  expiresAt: string;
};

export type PartyErrorCode = "INVALID" | "TOO_LARGE" | "RATE_LIMITED" | "NOT_ALLOWED" | "NO_SUCH_MEMBER";

export type ServerMessage =
  | { t: "welcome"; you: string; party: PartyInfo; members: PartyMember[]; state: PartyState; now: number }
  | { t: "pong"; c: number; s: number }
  | { t: "state"; state: PartyState; by: string | null; cause: "play" | "pause" | "seek" | "rate" | "wait" | "resume" | "request" }
  | { t: "join"; member: PartyMember }
  /** A member's presence or stall changed. */
  | { t: "member"; member: PartyMember }
  | { t: "leave"; memberId: string; reason: "left" | "dropped" }
  | { t: "host"; hostId: string | null }
  | { t: "settings"; control: PartyControl; waitForEveryone: boolean }
  | { t: "reaction"; from: string; emoji: Reaction }
  | { t: "error"; code: PartyErrorCode; message: string; about?: ClientMessage["t"] };

// ---- the arithmetic of staying together -----------------------------------------------

/** Whether the party's clock is running: playing, and nobody it waits for is stalled. */
export const isRunning = (state: PartyState): boolean => state.playing && state.waitingFor.length === 0;

/** The party's position at the object's clock `serverNowMs`, within [0, durationSec]. */
export function positionAt(state: PartyState, serverNowMs: number, durationSec: number): number {
  const pos = isRunning(state) ? state.pos + (Math.max(0, serverNowMs - state.at) / 1000) * state.rate : state.pos;
  return Math.min(Math.max(pos, 0), durationSec > 0 ? durationSec : pos);
}

export type ClockSample = { /** client clock when sent */ c0: number; /** object's clock in the pong */ s: number; /** client clock when the pong arrived */ c1: number };

/**
 * NTP's estimate from round trips: for each, offset = s − (c0 + c1) / 2, which is exact
 * when the two legs take equally long; the sample with the shortest round trip has the
 * least room for asymmetry, so it wins. Add `offsetMs` to the client's clock to read the
 * object's.
 */
export function clockOffset(samples: readonly ClockSample[]): { offsetMs: number; rttMs: number } | null {
  let best: { offsetMs: number; rttMs: number } | null = null;
  for (const { c0, s, c1 } of samples) {
    const rtt = c1 - c0;
    if (!(rtt >= 0) || !Number.isFinite(s)) continue;
    if (!best || rtt < best.rttMs) best = { offsetMs: s - (c0 + c1) / 2, rttMs: rtt };
  }
  return best;
}

export type Correction = { kind: "none"; rate: number } | { kind: "nudge"; rate: number } | { kind: "seek"; to: number; rate: number };

/**
 * What a player does about `driftSec` (its position minus the party's; positive is ahead):
 * past SEEK_THRESHOLD_SEC it seeks; within the deadband it plays at the party's rate;
 * between, it plays up to MAX_RATE_NUDGE slower (ahead) or faster (behind), in proportion,
 * closing half the drift per second at most.
 */
export function correctionFor(driftSec: number, partyPos: number, partyRate: number): Correction {
  const abs = Math.abs(driftSec);
  if (abs > SEEK_THRESHOLD_SEC) return { kind: "seek", to: partyPos, rate: partyRate };
  if (abs <= DRIFT_DEADBAND_SEC) return { kind: "none", rate: partyRate };
  const nudge = Math.min(MAX_RATE_NUDGE, abs / 2) * Math.sign(driftSec);
  return { kind: "nudge", rate: partyRate * (1 - nudge) };
}
