// The api's side of the WatchParty Durable Object: one object per party, named by its id,
// every call through `callDurableObject` (retries what the runtime marks retryable, else a 503).
import type { PartyConfig } from "../../../durable-objects/watch-party-room.ts";
import type { WatchParty } from "../../../durable-objects/watch-party.ts";
import type { PartyInfo } from "../../../lib/watch-party.ts";
import { callDurableObject } from "../bindings/durable-object-retry.ts";

type Env = { WATCH_PARTIES: ApiEnv["WATCH_PARTIES"] };
type Stub = DurableObjectStub<WatchParty>;

export function partyObject(env: Env, partyId: string, requestId?: string) {
  const call = <T>(what: string, method: (stub: Stub) => Promise<unknown>) =>
    callDurableObject(what, async () => (await method(env.WATCH_PARTIES.get(env.WATCH_PARTIES.idFromName(partyId)))) as T, requestId ? { requestId } : {});
  return {
    /** Idempotent: the same config again (a retry) answers the party it made. */
    create: (config: PartyConfig) => call<{ ok: true; party: PartyInfo } | { ok: false; code: "CONFLICT" }>("WatchParty.create", (s) => s.create(config)),
    info: (nowMs: number) => call<PartyInfo | null>("WatchParty.info", (s) => s.info(nowMs)),
    /** The socket upgrade, with the verified member in the request (durable-objects/watch-party.ts MEMBER_HEADER). */
    fetch: (url: string, init: RequestInit) => call<Response>("WatchParty.fetch", (s) => s.fetch(url, init)),
  };
}
