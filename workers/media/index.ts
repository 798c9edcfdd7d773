// The media Worker's entry point: its R2 buckets (the primary and each replica's,
// lib/media-origins/) and its qoe Queue behind the guard (timeouts, a circuit breaker per
// binding, and faults when CHAOS is on).
import { guardEnv } from "../../lib/bindings/guard.ts";
import { r2BindingsOf } from "../../lib/media-origins/pathways.ts";
import { createMediaApp } from "./app.ts";

const app = createMediaApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, guardEnv(env, { r2: r2BindingsOf(env.MEDIA_REPLICAS), queue: ["QOE_EVENTS"] }), ctx),
} satisfies ExportedHandler<MediaEnv>;
