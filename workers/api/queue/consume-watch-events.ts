// The Queue consumers. `watch-events`: every message acked or retried on its own — the
// valid ones applied in one D1 batch, the malformed ones sent to the dead-letter queue at
// once (retrying cannot fix them), D1 failures retried with backoff from `attempts`.
// `watch-events-dlq`: what reaches it (poison, or messages out of retries) is kept in D1
// `dead_letters` for inspection and replay (docs/watch-events.md).
import { drizzle } from "drizzle-orm/d1";
import { deadLetters } from "../../../d1/schema.ts";
import { log } from "../../../lib/log.ts";
import { watchEventMessageSchema, type WatchEventMessage } from "../../../lib/watch-events.ts";
import type { Bindings } from "../env.ts";
import { applyEvents } from "../events/apply-events.ts";

export const WATCH_EVENTS_QUEUE = "watch-events";
export const DEAD_LETTER_QUEUE = "watch-events-dlq";

type Env = Pick<Bindings, "DB" | "WATCH_EVENTS_DLQ">;

/** What the consumer sends to the dead-letter queue for a message it cannot use. */
export type PoisonLetter = { poison: true; messageId: string; reason: string; attempts: number; body: unknown };

/** Exponential backoff from the delivery count, with jitter, capped at 10 minutes. */
export function retryDelaySeconds(attempts: number, random = Math.random): number {
  const base = Math.min(600, 5 * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}

/** After this many failing messages in a row, the rest of a failed batch is retried without trying each. */
const MAX_CONSECUTIVE_FAILURES = 3;

function describe(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

async function applyEach(env: Env, messages: { message: Message; body: WatchEventMessage }[], nowMs: number) {
  let applied = 0;
  let attempted = 0;
  let retried = 0;
  let failuresInARow = 0;
  for (const { message, body } of messages) {
    if (failuresInARow >= MAX_CONSECUTIVE_FAILURES) {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      retried++;
      continue;
    }
    try {
      attempted++;
      await applyEvents(env.DB, [body], nowMs);
      message.ack();
      applied++;
      failuresInARow = 0;
    } catch (err) {
      log("warn", { event: "dependency_failed", requestId: "", dependency: "d1", message: `watch event ${message.id}: ${describe(err)}` });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      retried++;
      failuresInARow++;
    }
  }
  return { applied, retried, attempted };
}

async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const nowMs = Date.now();
  const good: { message: Message; body: WatchEventMessage }[] = [];
  const poison: { message: Message; reason: string }[] = [];
  for (const message of batch.messages) {
    const parsed = watchEventMessageSchema.safeParse(message.body);
    if (parsed.success) good.push({ message, body: parsed.data });
    else poison.push({ message, reason: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
  }

  if (poison.length > 0) {
    try {
      await env.WATCH_EVENTS_DLQ.sendBatch(
        poison.map(({ message, reason }) => ({
          body: { poison: true, messageId: message.id, reason, attempts: message.attempts, body: message.body } satisfies PoisonLetter,
          contentType: "json" as const,
        })),
      );
      for (const { message } of poison) message.ack();
    } catch (err) {
      log("error", { event: "dependency_failed", requestId: "", dependency: "queue", message: `dead-letter send: ${describe(err)}` });
      for (const { message } of poison) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }

  let applied = 0;
  let retried = 0;
  let roundTrips = 0;
  if (good.length > 0) {
    try {
      roundTrips++;
      await applyEvents(env.DB, good.map((g) => g.body), nowMs);
      for (const { message } of good) message.ack();
      applied = good.length;
    } catch (err) {
      // One transaction: nothing was applied. Try each message alone, so one that D1
      // refuses cannot hold back the others; it retries, and reaches the DLQ in the end.
      log("warn", { event: "dependency_failed", requestId: "", dependency: "d1", message: `watch-events batch of ${good.length}: ${describe(err)}` });
      if (good.length === 1) {
        good[0]!.message.retry({ delaySeconds: retryDelaySeconds(good[0]!.message.attempts) });
        retried = 1;
      } else {
        const each = await applyEach(env, good, nowMs);
        ({ applied, retried } = each);
        roundTrips += each.attempted;
      }
    }
  }
  log("info", { event: "queue_batch", queue: batch.queue, messages: batch.messages.length, applied, retried, deadLettered: poison.length, d1RoundTrips: roundTrips });
}

async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = new Date();
  const rows = batch.messages.map((m) => {
    const letter = m.body as Partial<PoisonLetter> | null;
    const isPoison = typeof letter === "object" && letter !== null && letter.poison === true;
    return {
      id: isPoison && typeof letter.messageId === "string" ? letter.messageId : m.id,
      body: JSON.stringify(isPoison ? letter.body : m.body) ?? "null",
      reason: isPoison ? String(letter.reason ?? "malformed") : "retries exhausted",
      attempts: isPoison ? Number(letter.attempts ?? 0) : m.attempts,
      receivedAt: now,
    };
  });
  try {
    const orm = drizzle(env.DB);
    // 5 columns a row: 20 rows a statement stays under D1's 100 bound parameters.
    const statements = [];
    for (let i = 0; i < rows.length; i += 20) statements.push(orm.insert(deadLetters).values(rows.slice(i, i + 20)).onConflictDoNothing());
    const [first, ...rest] = statements;
    if (first) await orm.batch([first, ...rest]);
    batch.ackAll();
    log("warn", { event: "queue_batch", queue: batch.queue, messages: rows.length, applied: 0, retried: 0, deadLettered: rows.length, d1RoundTrips: 1 });
  } catch (err) {
    log("error", { event: "dependency_failed", requestId: "", dependency: "d1", message: `dead letters: ${describe(err)}` });
    for (const m of batch.messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
  }
}

export async function consumeWatchEvents(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  // Environments may name their queues differently (watch-events-staging…); the DLQ's ends in -dlq.
  if (batch.queue === DEAD_LETTER_QUEUE || batch.queue.endsWith("-dlq")) return consumeDeadLetters(batch, env);
  return consumeEvents(batch, env);
}
