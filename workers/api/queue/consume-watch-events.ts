// The Queue consumers. `watch-events-{k}` (one per watch shard): every message acked or
// retried on its own — the valid ones applied to shard k's D1 in one batch, the malformed
// ones sent to the dead-letter queue at once (retrying cannot fix them), D1 failures
// retried with backoff from `attempts`; then the batch's counter deltas folded into `DB`
// (events/fold-counters.ts). `watch-events-dlq`: what reaches it (poison, or messages out
// of retries) is kept in D1 `dead_letters` for inspection and replay (docs/watch-events.md).
import { drizzle } from "drizzle-orm/d1";
import { deadLetters } from "../../../d1/schema.ts";
import { log } from "../../../lib/log.ts";
import { eventsOf, queuedWatchMessageSchema, type WatchEventBatchMessage, type WatchEventMessage } from "../../../lib/watch-events.ts";
import { shardOf } from "../../../lib/watch-shard-of.ts";
import { groupByShard, shard, shardOfQueue, shardsOf, type WatchShard } from "../../../lib/watch-shards/shards.ts";
import type { Bindings } from "../env.ts";
import { applyEvents, type OutboxRow } from "../events/apply-events.ts";
import { foldCounters } from "../events/fold-counters.ts";
import { sendToQueue } from "./send.ts";

export const DEAD_LETTER_QUEUE = "watch-events-dlq";

type Env = Pick<Bindings, "DB" | "WATCH_EVENTS_DLQ">;

/**
 * Per shard, the batch tags folded into DB whose outbox rows the shard still holds: the
 * shard's next batch deletes them first (an isolate that forgets them leaves rows the
 * cron's sweep folds again, which adds nothing: counter_folds).
 */
const foldedAwaitingDelete = new Map<number, string[]>();

/** Folds what the shard's batch left in its outbox; a failure leaves the rows for the next batch or the cron. */
export async function foldPending(env: Pick<Bindings, "DB">, k: number, rows: OutboxRow[], nowMs: number): Promise<number> {
  if (rows.length === 0) return 0;
  try {
    const tags = await foldCounters(env.DB, k, rows, nowMs);
    foldedAwaitingDelete.set(k, [...(foldedAwaitingDelete.get(k) ?? []), ...tags].slice(-100));
    return 1;
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: "", dependency: "d1", message: `counter fold for shard ${k} (${rows.length} rows, kept for the next try): ${describe(err)}` });
    return 1;
  }
}

/** Applies to the shard, handing over (and forgetting) the folded tags it must delete; they come back if the batch fails. */
async function applyToShard(env: Env, target: WatchShard, bodies: WatchEventMessage[], nowMs: number): Promise<OutboxRow[]> {
  const folded = foldedAwaitingDelete.get(target.index) ?? [];
  foldedAwaitingDelete.delete(target.index);
  try {
    return await applyEvents(target.db, env.DB.withSession("first-unconstrained"), bodies, nowMs, folded);
  } catch (err) {
    foldedAwaitingDelete.set(target.index, [...folded, ...(foldedAwaitingDelete.get(target.index) ?? [])]);
    throw err;
  }
}

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

/** A consumed message and its events (one, or a request's for this shard). */
type Taken = { message: Message; events: WatchEventMessage[] };

async function applyEach(env: Env, target: WatchShard, messages: Taken[], nowMs: number) {
  let applied = 0;
  let attempted = 0;
  let retried = 0;
  let failuresInARow = 0;
  const outbox: OutboxRow[] = [];
  for (const { message, events } of messages) {
    if (failuresInARow >= MAX_CONSECUTIVE_FAILURES) {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      retried++;
      continue;
    }
    try {
      attempted++;
      outbox.push(...(await applyToShard(env, target, events, nowMs)));
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
  return { applied, retried, attempted, outbox };
}

async function consumeEvents(batch: MessageBatch<unknown>, env: Env & Bindings, k: number): Promise<void> {
  const target = shard(env, k);
  const nowMs = Date.now();
  const good: Taken[] = [];
  const elsewhere: Taken[] = [];
  const poison: { message: Message; reason: string }[] = [];
  const shards = shardsOf(env);
  for (const message of batch.messages) {
    const parsed = queuedWatchMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      poison.push({ message, reason: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
      continue;
    }
    const events = eventsOf(parsed.data);
    (events.every((e) => shardOf(e.event.profileId, shards) === k) ? good : elsewhere).push({ message, events });
  }

  // A profile's events belong to its own shard alone (dedupe and last-write-wins are per
  // shard): a message with events of another shard's profiles (a replay by hand, a
  // producer with a stale config) is passed on, a message a shard, never applied here.
  if (elsewhere.length > 0) {
    try {
      const events = elsewhere.flatMap((e) => e.events);
      await Promise.all(
        groupByShard(env, events, (e) => e.event.profileId).map(({ shard: own, items }) =>
          sendToQueue(own.queue, `watch-events-${own.index}`, items.map((e): WatchEventBatchMessage => ({ v: 2, accountId: e.accountId, country: e.country, receivedAt: e.receivedAt, events: [e.event] })), ""),
        ),
      );
      for (const { message } of elsewhere) message.ack();
    } catch (err) {
      log("warn", { event: "dependency_failed", requestId: "", dependency: "queue", message: `passing ${elsewhere.length} messages on to their shards: ${describe(err)}` });
      for (const { message } of elsewhere) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
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
  let outbox: OutboxRow[] = [];
  if (good.length > 0) {
    try {
      roundTrips++;
      outbox = await applyToShard(env, target, good.flatMap((g) => g.events), nowMs);
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
        const each = await applyEach(env, target, good, nowMs);
        ({ applied, retried, outbox } = each);
        roundTrips += each.attempted;
      }
    }
  }
  // The events are applied (and acked) whether or not the fold works: their deltas wait in the outbox.
  roundTrips += await foldPending(env, k, outbox, nowMs);
  log("info", { event: "queue_batch", queue: batch.queue, shard: k, messages: batch.messages.length, events: good.reduce((n, g) => n + g.events.length, 0), applied, retried, deadLettered: poison.length, d1RoundTrips: roundTrips });
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
  // Environments may name their queues differently (watch-events-staging-3…); the DLQ's ends in -dlq.
  if (batch.queue === DEAD_LETTER_QUEUE || batch.queue.endsWith("-dlq")) return consumeDeadLetters(batch, env);
  const k = shardOfQueue(batch.queue);
  // A queue this Worker consumes but does not know is a configuration error: retry, loudly, rather than drop.
  if (k === null) throw new Error(`watch events from an unknown queue ${batch.queue} (expected watch-events[-env]-{k})`);
  return consumeEvents(batch, env, k);
}
