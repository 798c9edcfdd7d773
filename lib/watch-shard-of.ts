// Which watch shard a profile's data lives on: shard k of EVENT_SHARDS = N has its own D1
// database (WATCH_{k}) and queue (WATCH_EVENTS_{k}, `watch-events…-{k}`). The api Worker
// (intake, consumer, reads) and the Node tools (tools/dlq-replay.ts) use these same two
// functions, so a profile is always found where it was written. N must not change once a
// deployment has data: a profile would hash to another shard (docs/deploy.md).

/** The most shards a deployment may have (each is a D1 database, a queue and a consumer). */
export const MAX_SHARDS = 64;

const utf8 = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The shard (0 … shards − 1) of a profile: FNV-1a 32 of its id, mod `shards`. */
export function shardOf(profileId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new Error(`shard count must be a whole number from 1 to ${MAX_SHARDS}, not ${shards}`);
  }
  return fnv1a32(profileId) % shards;
}

/**
 * EVENT_SHARDS as a number, strictly: a plain decimal from 1 to 64 ("2", "16"), nothing
 * else — no sign, spaces, leading zeros, exponent or fraction — since a silently different
 * N would send profiles to other shards.
 */
export function shardCount(value: string | undefined): number {
  if (value === undefined) throw new Error(`EVENT_SHARDS is not set: it must be a whole number from 1 to ${MAX_SHARDS} (e.g. "2")`);
  if (!/^[1-9][0-9]?$/.test(value) || Number(value) > MAX_SHARDS) {
    throw new Error(`EVENT_SHARDS must be a whole number from 1 to ${MAX_SHARDS} written plainly (e.g. "2"), not ${JSON.stringify(value)}`);
  }
  return Number(value);
}
