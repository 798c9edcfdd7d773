// Driving the media app in workerd: a fresh app per test (fresh isolate state), real R2
// and Cache API, R2 reads counted, tokens signed with the test keys.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type Manifest, Parser } from "m3u8-parser";
import { expect } from "vitest";
import { parsePlaybackKeys, signPlaybackToken, type PlaybackClaims } from "../../../lib/playback-token.ts";
import { createMediaApp } from "../app.ts";

export const ORIGIN = "https://media.marquee.test";

/** Wraps the real bucket, recording the key of every `get`. */
export function countingBucket(bucket: R2Bucket, override?: (key: string) => Promise<R2ObjectBody | null> | undefined) {
  const reads: string[] = [];
  const wrapped = new Proxy(bucket, {
    get(target, prop) {
      if (prop === "get") {
        return (key: string, options?: R2GetOptions) => {
          reads.push(key);
          return override?.(key) ?? target.get(key, options);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bucket: wrapped, reads };
}

export async function tokenFor(claims: Partial<PlaybackClaims> & { assetId: string }, keySpec = env.PLAYBACK_TOKEN_KEYS) {
  return signPlaybackToken(
    { accountId: "acc_test", sessionId: "ps_test", maxHeight: 2160, expiresAt: Math.floor(Date.now() / 1000) + 3600, ...claims },
    await parsePlaybackKeys(keySpec),
  );
}

/** Wraps the real Queue, recording every message body sent (send or sendBatch). */
export function recordingQueue(queue: Queue) {
  const sent: unknown[] = [];
  const wrapped = new Proxy(queue, {
    get(target, prop) {
      if (prop === "send") return (body: unknown, options?: QueueSendOptions) => (sent.push(body), target.send(body, options));
      if (prop === "sendBatch") return (messages: MessageSendRequest[], options?: QueueSendBatchOptions) => (sent.push(...messages.map((m) => m.body)), target.sendBatch(messages, options));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { queue: wrapped, sent };
}

/** One app instance = one isolate's worth of state; requests run to completion, waitUntil included. */
export function mediaClient(options: { bucket?: R2Bucket; r2TimeoutMs?: number; cmcdBatchMs?: number } = {}) {
  const app = createMediaApp({ r2TimeoutMs: options.r2TimeoutMs, cmcdBatchMs: options.cmcdBatchMs ?? 0 });
  const bindings = { ...env, MEDIA: options.bucket ?? env.MEDIA };
  return async (path: string, init: RequestInit = {}, overrides: Partial<Cloudflare.Env> = {}) => {
    const ctx = createExecutionContext();
    const res = await app.request(`${ORIGIN}${path}`, init, { ...bindings, ...overrides }, ctx);
    // Read the body before waiting, so a streamed response and its cache fill both finish.
    const body = init.method === "HEAD" || res.status === 304 ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
    await waitOnExecutionContext(ctx);
    return { res, body, text: () => new TextDecoder().decode(body) };
  };
}

/** A playlist parsed by m3u8-parser, which must have nothing to warn about. */
export function parseHls(text: string): Manifest {
  const parser = new Parser();
  const warnings: string[] = [];
  parser.on("warn", (event) => warnings.push(event.message));
  parser.push(text);
  parser.end();
  expect(warnings).toEqual([]);
  return parser.manifest;
}
