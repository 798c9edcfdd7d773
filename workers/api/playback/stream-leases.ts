// The api's side of the AccountStreams Durable Object (stream leases and playback
// positions): one object per account, every call
// through `callDurableObject` (retries what the runtime marks retryable, else a 503).
import type { AccountStreams, AcquireResult, ActiveStream, Ender, HeartbeatResult, LeaseRequest, PlanState, ReleaseResult } from "../../../durable-objects/account-streams.ts";
import type { LivePosition, PositionNote } from "../../../lib/watch-shards/positions.ts";
import { callDurableObject } from "../bindings/durable-object-retry.ts";

type Env = { ACCOUNT_STREAMS: ApiEnv["ACCOUNT_STREAMS"] };
type Stub = DurableObjectStub<AccountStreams>;

export function streamLeases(env: Env, accountId: string, requestId: string) {
  // A fresh stub per attempt: a stub that threw may stay broken. RPC answers are
  // structured clones of the object's plain results, typed here once.
  const call = <T>(what: string, method: (stub: Stub) => Promise<unknown>) =>
    callDurableObject(what, async () => (await method(env.ACCOUNT_STREAMS.get(env.ACCOUNT_STREAMS.idFromName(accountId)))) as T, { requestId });
  return {
    /** Idempotent on `request.id`, so a retry after a lost response grants nothing twice. */
    acquire: (request: LeaseRequest, plan: PlanState, endStreamId: string | undefined, ender: Ender) =>
      call<AcquireResult>("AccountStreams.acquire", (s) => s.acquire(request, plan, Date.now(), endStreamId, ender)),
    heartbeat: (id: string, deviceSessionId: string, positionSec: number) =>
      call<HeartbeatResult>("AccountStreams.heartbeat", (s) => s.heartbeat(id, deviceSessionId, positionSec, Date.now())),
    /** This device's live lease `id`, read without extending it; null when it has ended or is another device's. */
    stream: (id: string, deviceSessionId: string) => call<ActiveStream | null>("AccountStreams.stream", (s) => s.stream(id, deviceSessionId, Date.now())),
    release: (id: string, ender: Ender) => call<ReleaseResult>("AccountStreams.release", (s) => s.release(id, ender, Date.now())),
    /** Idempotent: the object keeps the newest version it was given. */
    setPlan: (plan: PlanState) => call<{ applied: boolean; ended: number }>("AccountStreams.setPlan", (s) => s.setPlan(plan, Date.now())),
    list: () => call<ActiveStream[]>("AccountStreams.list", (s) => s.list(Date.now())),
    /** Idempotent: a position counts once per stream and client time. */
    notePositions: (notes: PositionNote[]) => call<number>("AccountStreams.notePositions", (s) => s.notePositions(notes, Date.now())),
    livePositions: (profileId: string) => call<(LivePosition & { finished: boolean })[]>("AccountStreams.livePositions", (s) => s.livePositions(profileId)),
    forgetPositions: (profileId: string, titleId: string | null) => call<number>("AccountStreams.forgetPositions", (s) => s.forgetPositions(profileId, titleId)),
  };
}
