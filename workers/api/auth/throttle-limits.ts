// How many sign-in and sign-up attempts the SignInThrottle Durable Object allows, per key.
//
// Why a Durable Object rather than the Rate Limiting binding: a lockout must count every
// attempt for a key exactly, wherever in the world the attempts land, and reserve it
// before the password is checked. One object per key gives strongly consistent counts
// across all locations, windows of any length, a Retry-After we can compute, releasing an
// attempt that succeeded, and it runs for real in workerd under test. The Rate Limiting
// binding counts per Cloudflare location and eventually consistently (an attacker
// spreading guesses over locations multiplies the limit), only offers fixed 10 s or 60 s
// periods, and cannot give back an attempt that succeeded.
//
// Three keys per sign-in, so that a stranger's guesses never lock the owner out:
// - the pair (account, client) is the strict one: one client guessing at one account;
// - the client across accounts: one client spraying guesses over many accounts;
// - the account across clients: a guesser spread over many addresses, slowed by a
//   progressive delay rather than locked — and clients that signed in to the account
//   before (its owner's devices) are not counted there at all.
import type { ThrottleLimits } from "../../../durable-objects/sign-in-throttle.ts";

/** Key "pair:<email>|<client>": a person mistyping a few times is never blocked; a guesser gets 20 an hour. */
export const PAIR_THROTTLE_LIMITS: ThrottleLimits = { maxFailures: 5, windowSec: 15 * 60 };

/**
 * Key "ip:<client>": higher, because many people can share one address (offices,
 * carrier NAT); it stops one client spraying guesses across accounts.
 */
export const ADDRESS_THROTTLE_LIMITS: ThrottleLimits = { maxFailures: 30, windowSec: 15 * 60 };

/**
 * Key "account:<email>", for clients the account does not recognise: 10 failures an hour
 * pass freely; then each further attempt waits 1 s, 2 s, 4 s … after the last, at most
 * 5 minutes. A guesser with any number of addresses then gets about 30 guesses an hour
 * at one account (10 + 9 doublings in 511 s + one per 5 minutes for the rest of the hour);
 * the owner at a new address is at worst asked to wait a few minutes, and at a device
 * they signed in from before (RECOGNISED_FOR_MS) not at all.
 */
export const ACCOUNT_THROTTLE_LIMITS: ThrottleLimits = { maxFailures: 50, windowSec: 60 * 60, delay: { afterFailures: 10, baseSec: 1, maxSec: 300 } };

/** Key "signup:<client>": accounts made per client per hour, counted whether they succeed or not. */
export const SIGNUP_THROTTLE_LIMITS: ThrottleLimits = { maxFailures: 10, windowSec: 60 * 60 };
