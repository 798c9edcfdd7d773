// The one error model of both Workers: a code enum mapped to statuses, one JSON body, and
// the Hono handlers (`onError`, `notFound`) that make every failure look the same.
import type { Context, Env, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { dependencyErrorOf } from "./bindings/guard.ts";
import { log, redactedPath } from "./log.ts";

export const errorStatus = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /** The thing existed and is over (a live event that has ended). */
  GONE: 410,
  TOO_MANY_STREAMS: 409,
  /** A heartbeat for a stream that was stopped, ended from another device, or let expire: the player must stop. */
  STREAM_ENDED: 409,
  /** A body the route streams must say its length (Content-Length) so its limit is checked before any of it is read. */
  LENGTH_REQUIRED: 411,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  CHECKSUM_MISMATCH: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof errorStatus;

export const errorCodes = Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]];

/** The body of every error response, documented once in the OpenAPI document. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    requestId: z.string(),
    details: z.unknown().optional(),
  }),
});

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** An expected failure: thrown anywhere in a request, rendered by `onError`. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; headers?: Record<string, string> } = {}) {
    super(errorStatus[code], { message });
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export function errorResponse(
  c: Context,
  code: ErrorCode,
  message: string,
  options: { details?: unknown; headers?: Record<string, string> } = {},
): Response {
  const body: ErrorBody = { error: { code, message, requestId: c.get("requestId") ?? "", details: options.details } };
  return c.json(body, errorStatus[code], options.headers);
}

/** Hono's own HTTPExceptions (e.g. malformed JSON from a validator) keep their status and message. */
function codeForStatus(status: number): ErrorCode {
  const found = (Object.entries(errorStatus) as [ErrorCode, number][]).find(([, s]) => s === status);
  return found ? found[0] : status >= 500 ? "INTERNAL" : "BAD_REQUEST";
}

export function onError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    return errorResponse(c, err.code, err.message, { details: err.details, headers: err.headers });
  }
  if (err instanceof HTTPException && err.status < 500) {
    return errorResponse(c, codeForStatus(err.status), err.message || "Bad request");
  }
  const dependency = dependencyErrorOf(err);
  if (dependency) {
    // A dependency failed, timed out or has its breaker open: the request may well succeed
    // in a moment, so it is a retryable 503, never a 500.
    log("warn", { event: "dependency_failed", requestId: c.get("requestId") ?? "", dependency: dependency.dependency, message: dependency.message });
    return errorResponse(c, "UNAVAILABLE", "A service Marquee depends on is not answering right now; try again in a moment.", {
      headers: { "Retry-After": dependency.reason === "circuit_open" ? "5" : "1" },
      details: { reason: dependency.reason, retryable: true },
    });
  }
  log("error", {
    event: "unhandled_error",
    requestId: c.get("requestId") ?? "",
    method: c.req.method,
    path: redactedPath(c.req.path),
    message: err.message,
    stack: err.stack ?? "",
  });
  return errorResponse(c, "INTERNAL", "Something went wrong on our side. Try again, and quote the request id if it persists.");
}

/** Turns a Hono route pattern (`/v1/titles/:id`, `/p/*`) into a whole-path matcher. */
function patternToRegExp(pattern: string): RegExp {
  const body = pattern
    .split("/")
    .map((part) => {
      if (part === "*") return ".*";
      if (part.startsWith(":")) return "[^/]+";
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${body}/?$`);
}

/**
 * A `notFound` handler that tells "no such path" (404) from "no such method on this path"
 * (405 with an `Allow` header), from the app's own route table.
 */
export function notFoundFor<E extends Env>(app: Hono<E>) {
  return (c: Context): Response => {
    const path = c.req.path;
    const allowed = new Set<string>();
    for (const route of app.routes) {
      if (route.method === "ALL") continue; // middleware, not an endpoint
      if (patternToRegExp(route.path).test(path)) allowed.add(route.method);
    }
    if (allowed.has("GET")) allowed.add("HEAD");
    if (allowed.size > 0 && !allowed.has(c.req.method)) {
      const allow = [...allowed].sort().join(", ");
      return errorResponse(c, "METHOD_NOT_ALLOWED", `${c.req.method} is not allowed on ${path}; use ${allow}.`, {
        headers: { Allow: allow },
      });
    }
    return errorResponse(c, "NOT_FOUND", `No route for ${c.req.method} ${path}.`);
  };
}

/** Zod issues as the `details` of a VALIDATION_FAILED error: where, and what is wrong. */
export function validationDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}
