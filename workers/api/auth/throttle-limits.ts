// How many failed sign-ins the SignInThrottle Durable Object allows per account and per client address.
//
// Why a Durable Object rather than the Rate Limiting binding: a lockout must count every
// failure for a key exactly, wherever in the world the attempts land. One object per key
// gives strongly consistent counts across all locations, windows of any length, a
// Retry-After we can compute, a reset on success, and it runs for real in workerd under
// test. The Rate Limiting binding counts per Cloudflare location and eventually
// consistently (an attacker spreading guesses over locations multiplies the limit), only
// offers fixed 10 s or 60 s periods, cannot be reset for one key, and does not limit
// anything meaningful in local tests.
import type { ThrottleLimits } from "../../../durable-objects/sign-in-throttle.ts";

/**
 * Per account (key "account:<normalised email>"): slows online guessing against one
 * account to 20 an hour, while a person who mistypes a few times is never blocked.
 */
export const ACCOUNT_THROTTLE_LIMITS: ThrottleLimits = { maxFailures: 5, windowSec: 15 * 60 };

/**
 * Per client address (key "ip:<address>"): higher, because many people can share one
 * address (offices, carrier NAT); it stops one client spraying guesses across accounts.
 */
export const ADDRESS_THROTTLE_LIMITS: ThrottleLimits = { maxFailures: 30, windowSec: 15 * 60 };
