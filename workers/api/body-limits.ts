// How many bytes a request body may have, per route: every route that takes a body
// declares its limit where it declares the body (`jsonBody`, `streamedBody`), a request
// over it is a 413 in the standard error body before the route reads, hashes or parses
// any of it, and a route that declares none is held to the api's default.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { matchedRoutes } from "hono/route";
import type { z } from "zod";
import { ApiError } from "../../lib/errors.ts";

export const KB = 1024;
export const MB = 1024 * KB;

/**
 * What a route that declares no limit may receive: more than any small body of ours,
 * far less than what would make reading it a cost (a 30 MB body to sign-in was once read
 * and parsed whole, and the billing webhook computed an HMAC over whatever it was sent).
 */
export const DEFAULT_BODY_LIMIT = 16 * KB;

const LIMIT = Symbol.for("marquee.bodyLimit");

/** A limit as routes declare it: the bytes, and whether the route streams the body itself. */
export type BodyLimit = { maxBytes: number; streamed: boolean; chunked?: boolean };

type Tagged = { [LIMIT]?: BodyLimit };

function describe(bytes: number): string {
  return bytes >= MB ? `${bytes / MB} MB` : `${bytes / KB} KB`;
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError("PAYLOAD_TOO_LARGE", `The request body is over this route's limit of ${describe(maxBytes)}.`, { details: { limitBytes: maxBytes } });
}

/**
 * Hono's bodyLimit with our error, for bodies the route parses whole: a Content-Length
 * over the limit is refused at once (nothing read); a body without one is read only up
 * to the limit, then refused.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const middleware = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(maxBytes);
    },
  });
  return Object.assign(middleware, { [LIMIT]: { maxBytes, streamed: false } satisfies BodyLimit });
}

/**
 * For bodies the route streams on (into R2, line by line): they must say their length,
 * which is checked here, so nothing is ever buffered — Hono's bodyLimit would hold a
 * length-less body in memory to count it.
 */
export function limitStreamedBody(maxBytes: number): MiddlewareHandler {
  const middleware: MiddlewareHandler = async (c, next) => {
    if (!c.req.raw.body) return next();
    const length = c.req.header("content-length");
    if (c.req.header("transfer-encoding") !== undefined || length === undefined || !/^\d{1,15}$/.test(length)) {
      throw new ApiError("LENGTH_REQUIRED", "Send this body with a Content-Length.");
    }
    if (Number(length) > maxBytes) throw tooLarge(maxBytes);
    return next();
  };
  return Object.assign(middleware, { [LIMIT]: { maxBytes, streamed: true } satisfies BodyLimit });
}

/**
 * For bodies the route reads itself with `readBounded` and that may come chunked: a declared
 * Content-Length over the limit is refused here; nothing is read before the route has
 * checked who is sending (Hono's bodyLimit would read a chunked body whole first).
 */
export function limitChunkedBody(maxBytes: number): MiddlewareHandler {
  const middleware: MiddlewareHandler = async (c, next) => {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined && (!/^\d{1,15}$/.test(length) || Number(length) > maxBytes)) throw tooLarge(maxBytes);
    return next();
  };
  return Object.assign(middleware, { [LIMIT]: { maxBytes, streamed: true, chunked: true } satisfies BodyLimit });
}

/** The middleware for a limit a route config declared. */
export function limitFor(limit: BodyLimit): MiddlewareHandler {
  if (limit.chunked) return limitChunkedBody(limit.maxBytes);
  return limit.streamed ? limitStreamedBody(limit.maxBytes) : limitBody(limit.maxBytes);
}

/** The limit a route's `request.body` declares (see `jsonBody`, `streamedBody`), if any. */
export function declaredLimit(body: unknown): BodyLimit | undefined {
  return (body as Tagged | undefined)?.[LIMIT];
}

/**
 * A route's JSON request body with the most bytes it may have: `request: { body:
 * jsonBody(schema, 4 * KB) }`. The router makes the limit the route's first middleware,
 * and the OpenAPI document says it.
 */
export function jsonBody<T extends z.ZodType>(schema: T, maxBytes: number, options: { required?: boolean } = {}) {
  return {
    required: options.required ?? true,
    description: `JSON, at most ${describe(maxBytes)}`,
    content: { "application/json": { schema } },
    [LIMIT]: { maxBytes, streamed: false } satisfies BodyLimit,
  };
}

/**
 * A body the route streams itself (uploads, NDJSON imports), with a Content-Length
 * required and at most `maxBytes`, and the route's own finer bound (`bound`: a length
 * that must match the index, a part size, a line length) written down beside it.
 */
export function streamedBody<C extends Record<string, { schema: z.ZodType }>>(content: C, maxBytes: number, bound: string) {
  return { required: true, description: `${bound}; with a Content-Length of at most ${describe(maxBytes)}`, content, [LIMIT]: { maxBytes, streamed: true } satisfies BodyLimit };
}

/**
 * A body the route reads itself, whole, with `readBounded` after checking the sender, sent
 * with or without a Content-Length (ffmpeg PUTs chunked): a declared length over
 * `maxBytes` is refused at once, a chunked body is cut off at the route's own bound.
 */
export function chunkedBody<C extends Record<string, { schema: z.ZodType }>>(content: C, maxBytes: number, bound: string) {
  return { required: true, description: `${bound}; chunked or with a Content-Length, at most ${describe(maxBytes)}`, content, [LIMIT]: { maxBytes, streamed: true, chunked: true } satisfies BodyLimit };
}

/**
 * The whole of a body, refused (413, the rest not read) as soon as it passes `maxBytes`:
 * for a route whose kinds of body have finer limits than the one it declares.
 */
export async function readBounded(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * The api-wide net, first of all middleware: a request to a route that declared no limit
 * of its own is held to DEFAULT_BODY_LIMIT. A route's declared limit is found on its
 * matched middleware (every handler of the request is matched before the first runs), so
 * one route's larger limit is never everyone's.
 */
export function defaultBodyLimit(): MiddlewareHandler {
  const fallback = limitBody(DEFAULT_BODY_LIMIT);
  return async (c: Context, next) => {
    if (!c.req.raw.body) return next();
    const declared = matchedRoutes(c).some((route) => (route.handler as Tagged)[LIMIT] !== undefined);
    return declared ? next() : fallback(c, next);
  };
}
