// The api Worker's entry point: HTTP, the watch shards' and qoe Queue consumers, the cron trigger,
// and the Durable Object classes it hosts. Every handler gets the env with its bindings
// behind the guard (timeouts, circuit breakers, and faults when CHAOS is on).
import { apiBindingPlan } from "../../lib/bindings/api-bindings.ts";
import { guardEnv } from "../../lib/bindings/guard.ts";
import { createApp } from "./app.ts";
import type { Bindings } from "./env.ts";
import { consumeQoe, isQoeQueue } from "./queue/consume-qoe.ts";
import { consumeWatchEvents } from "./queue/consume-watch-events.ts";
import { runScheduled } from "./cron/run-scheduled.ts";
import { forwardMedia, isMediaPath } from "./routes/media-forward.ts";

export { AccountStreams } from "../../durable-objects/account-streams.ts";
export { SignInThrottle } from "../../durable-objects/sign-in-throttle.ts";
export { LiveEvent } from "../../durable-objects/live-event.ts";
export { WatchParty } from "../../durable-objects/watch-party.ts";

const app = createApp();
const guarded = (env: Bindings) => guardEnv(env, apiBindingPlan(env));

export default {
  fetch: (request, env, ctx) => (isMediaPath(request.url) ? forwardMedia(request, guarded(env)) : app.fetch(request, guarded(env), ctx)),
  queue: (batch, env) => (isQoeQueue(batch.queue) ? consumeQoe(batch, guarded(env)) : consumeWatchEvents(batch, guarded(env))),
  scheduled: (controller, env) => runScheduled(controller, guarded(env)),
} satisfies ExportedHandler<Bindings>;
