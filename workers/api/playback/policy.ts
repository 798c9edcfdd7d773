// The timing of a stream: how often players beat, how long a lease and a playback token
// live. The lease's own length is the AccountStreams object's (LEASE_TTL_MS).
import { LEASE_MAX_LIFETIME_MS, LEASE_TTL_MS, PREPARED_LEASE_TTL_MS } from "../../../durable-objects/account-streams.ts";

/** Players send a heartbeat this often; three in a row may be lost before the lease lapses. */
export const HEARTBEAT_INTERVAL_SEC = 30;

/**
 * A playback token outlives its lease by at most this much: a stream that was stopped or
 * ended elsewhere can fetch media for at most LEASE_TTL + this (3.5 min) after its last
 * heartbeat, and a player whose heartbeat is late keeps playing what it has meanwhile.
 * Every heartbeat hands out a fresh token, so a whole viewing never runs out.
 */
export const TOKEN_GRACE_SEC = 120;

export const LEASE_TTL_SEC = LEASE_TTL_MS / 1000;
export const PREPARED_LEASE_TTL_SEC = PREPARED_LEASE_TTL_MS / 1000;

/**
 * Unix seconds at which a token minted for a lease ending at `leaseExpiresAtMs` expires:
 * the grace after the lease, but never past the lease's lifetime (LEASE_MAX_LIFETIME_MS
 * from its start), so no token outlives the stream it was for.
 */
export function tokenExpiry(leaseExpiresAtMs: number, leaseStartedAtMs: number): number {
  return Math.min(Math.floor(leaseExpiresAtMs / 1000) + TOKEN_GRACE_SEC, Math.floor((leaseStartedAtMs + LEASE_MAX_LIFETIME_MS) / 1000));
}
