// The middleware and routes both Workers share: request ids, access logs, error handlers
// and the health check.
import type { Hono } from "hono";
import { requestId } from "hono/request-id";
import { z } from "zod";
import { notFoundFor, onError } from "./errors.ts";
import { chaosSpecOf } from "./bindings/guard.ts";
import { log, redactedPath, setLogLevel, type LogLevel } from "./log.ts";

export const healthSchema = z.object({
  ok: z.literal(true),
  service: z.enum(["marquee-api", "marquee-media"]),
  version: z.string(),
  /** The fault-injection spec when CHAOS is on (never in production). */
  chaos: z.string().optional(),
});

export type Health = z.infer<typeof healthSchema>;

type SharedBindings = { BUILD_VERSION: string; LOG_LEVEL?: string };

export function health(service: Health["service"], env: SharedBindings): Health {
  const chaos = chaosSpecOf(env);
  return { ok: true, service, version: env.BUILD_VERSION, ...(chaos ? { chaos } : {}) };
}

export type BaseOptions = {
  /**
   * The level of a request's access-log line. The media Worker logs cache hits at debug:
   * one line per video segment is most of its CPU under `wrangler dev` and most of its log
   * volume in production, and says nothing a metric would not.
   */
  accessLogLevel?: (res: Response) => LogLevel;
};

export { redactedPath };

/** Installs request ids, access logs and the shared error handlers on an app (Hono or OpenAPIHono). */
export function installBase<App extends Hono<any, any, any>>(given: App, options: BaseOptions = {}): App {
  const app = given as unknown as Hono<{ Bindings: SharedBindings }>;
  app.use(requestId({ limitLength: 64 }));
  app.use(async (c, next) => {
    setLogLevel(c.env.LOG_LEVEL);
    const started = Date.now();
    await next();
    log(options.accessLogLevel?.(c.res) ?? "info", {
      event: "request",
      requestId: c.get("requestId"),
      method: c.req.method,
      path: redactedPath(c.req.path),
      status: c.res.status,
      durationMs: Date.now() - started,
    });
  });
  app.onError(onError);
  app.notFound(notFoundFor(app));
  return given;
}
