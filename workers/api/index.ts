// The api Worker's entry point: HTTP, the watch-events Queue consumer, the cron trigger,
// and the Durable Object classes it hosts.
import { createApp } from "./app.ts";
import type { Bindings } from "./env.ts";
import { consumeWatchEvents } from "./queue/consume-watch-events.ts";
import { runScheduled } from "./cron/run-scheduled.ts";
import { forwardMedia, isMediaPath } from "./routes/media-forward.ts";

export { AccountStreams } from "../../durable-objects/account-streams.ts";
export { SignInThrottle } from "../../durable-objects/sign-in-throttle.ts";

const app = createApp();

export default {
  fetch: (request, env, ctx) => (isMediaPath(request.url) ? forwardMedia(request, env) : app.fetch(request, env, ctx)),
  queue: consumeWatchEvents,
  scheduled: runScheduled,
} satisfies ExportedHandler<Bindings>;
