// The watch shards of this deployment: `EVENT_SHARDS` = N pairs of a Queue
// (`WATCH_EVENTS_{k}`, queue `watch-events-{k}`) and a D1 database (`WATCH_{k}`), k =
// shardOf(profile id) — so everything one profile watches is in one shard: its events,
// progress, history and recent titles, deduplicated and ordered there alone. The bindings
// are generated into wrangler.toml from N (`npm run shards`, docs/scaling.md).
import { shardCount, shardOf } from "../watch-shard-of.ts";

export type ShardEnv = { EVENT_SHARDS: string };

export type WatchShard = { index: number; db: D1Database; queue: Queue };

/** The binding names of shard k (wrangler.toml's generated block). */
export const shardBindingNames = (k: number) => ({ db: `WATCH_${k}`, queue: `WATCH_EVENTS_${k}` });

/** Every shard binding name of a deployment with `shards` shards: what the binding guard wraps. */
export function allShardBindings(shards: number): { d1: string[]; queue: string[] } {
  const names = Array.from({ length: shards }, (_, k) => shardBindingNames(k));
  return { d1: names.map((n) => n.db), queue: names.map((n) => n.queue) };
}

/** The number of shards, from `EVENT_SHARDS` (a deployment with a malformed value fails loudly on its first use). */
export function shardsOf(env: ShardEnv): number {
  return shardCount(env.EVENT_SHARDS);
}

/** Shard k's bindings; a missing one is a configuration error (regenerate with `npm run shards`). */
export function shard(env: ShardEnv, k: number): WatchShard {
  const names = shardBindingNames(k);
  const source = env as unknown as Record<string, unknown>;
  const db = source[names.db] as D1Database | undefined;
  const queue = source[names.queue] as Queue | undefined;
  if (!db || !queue) throw new Error(`watch shard ${k}: bindings ${names.db} and ${names.queue} are missing; run \`npm run shards\` (EVENT_SHARDS=${env.EVENT_SHARDS})`);
  return { index: k, db, queue };
}

/** The shard that holds this profile's watch data. */
export function shardForProfile(env: ShardEnv, profileId: string): WatchShard {
  return shard(env, shardOf(profileId, shardsOf(env)));
}

export function allShards(env: ShardEnv): WatchShard[] {
  return Array.from({ length: shardsOf(env) }, (_, k) => shard(env, k));
}

/** Items grouped by the shard of their profile, in shard order. */
export function groupByShard<T>(env: ShardEnv, items: T[], profileOf: (item: T) => string): { shard: WatchShard; items: T[] }[] {
  const n = shardsOf(env);
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const k = shardOf(profileOf(item), n);
    let list = groups.get(k);
    if (!list) groups.set(k, (list = []));
    list.push(item);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => ({ shard: shard(env, k), items: groups.get(k)! }));
}

/** The shard a consumed batch came from: its queue's name ends in `-{k}` (watch-events-3, watch-events-staging-3). */
export function shardOfQueue(queueName: string): number | null {
  const m = /^watch-events(?:-[a-z]+)?-(0|[1-9][0-9]?)$/.exec(queueName);
  return m ? Number(m[1]) : null;
}
