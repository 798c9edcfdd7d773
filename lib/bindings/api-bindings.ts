// The api Worker's bindings that reach another service, for the binding guard: the
// Worker's handlers and the Durable Objects it hosts guard one env with this one plan
// (guardEnv keeps the first guarded copy of an env, so every user must ask for the same).
// ASSETS is the platform's own file server. The watch shards' bindings come from
// EVENT_SHARDS (lib/watch-shards/shards.ts), the media replicas' from MEDIA_REPLICAS.
import { r2BindingsOf } from "../media-origins/pathways.ts";
import { allShardBindings, shardsOf, type ShardEnv } from "../watch-shards/shards.ts";
import type { BindingPlan } from "./guard.ts";

const plans = new Map<string, BindingPlan>();

export function apiBindingPlan(env: ShardEnv & { MEDIA_REPLICAS?: string }): BindingPlan {
  const n = shardsOf(env);
  const key = `${n}|${env.MEDIA_REPLICAS ?? ""}`;
  let plan = plans.get(key);
  if (!plan) {
    const shards = allShardBindings(n);
    plan = {
      d1: ["DB", ...shards.d1],
      // The primary bucket and each replica's (lib/media-origins/pathways.ts).
      r2: r2BindingsOf(env.MEDIA_REPLICAS),
      do: ["ACCOUNT_STREAMS", "SIGN_IN_THROTTLE", "LIVE_EVENTS", "WATCH_PARTIES"],
      queue: ["WATCH_EVENTS_DLQ", "QOE_EVENTS", ...shards.queue],
      service: ["MEDIA_WORKER"],
    };
    plans.set(key, plan);
  }
  return plan;
}
