// The media Worker's entry point: its R2 bucket and its qoe Queue behind the guard (timeouts, a circuit
// breaker, and faults when CHAOS is on).
import { guardEnv } from "../../lib/bindings/guard.ts";
import { createMediaApp } from "./app.ts";

const app = createMediaApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, guardEnv(env, { r2: ["MEDIA"], queue: ["QOE_EVENTS"] }), ctx),
} satisfies ExportedHandler<MediaEnv>;
