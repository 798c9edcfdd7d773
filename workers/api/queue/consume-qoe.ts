// The `qoe` Queue's consumer: players' reports and the media Worker's CMCD records, in one
// D1 batch per consumed batch (apply-qoe.ts). A malformed message is logged and acked
// (retrying cannot fix it); a failed D1 batch is retried whole with backoff from
// `attempts` — ids make a second delivery harmless.
import { log } from "../../../lib/log.ts";
import { qoeMessageSchema, type QoeMessage } from "../../../lib/qoe.ts";
import type { Bindings } from "../env.ts";
import { applyQoe } from "../qoe/apply-qoe.ts";
import { retryDelaySeconds } from "./consume-watch-events.ts";

/** Environments name it qoe, qoe-staging, qoe-production. */
export function isQoeQueue(name: string): boolean {
  return name === "qoe" || name.startsWith("qoe-");
}

export async function consumeQoe(batch: MessageBatch<unknown>, env: Pick<Bindings, "DB">): Promise<void> {
  const good: { message: Message; body: QoeMessage }[] = [];
  let malformed = 0;
  for (const message of batch.messages) {
    const parsed = qoeMessageSchema.safeParse(message.body);
    if (parsed.success) {
      good.push({ message, body: parsed.data });
    } else {
      malformed++;
      log("warn", { event: "qoe_malformed", requestId: "", message: `${message.id}: ${parsed.error.issues.slice(0, 2).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` });
      message.ack();
    }
  }
  let roundTrips = 0;
  let retried = 0;
  if (good.length > 0) {
    try {
      roundTrips = await applyQoe(env.DB, good.map((g) => g.body));
      for (const { message } of good) message.ack();
    } catch (err) {
      log("warn", { event: "dependency_failed", requestId: "", dependency: "d1", message: `qoe batch of ${good.length}: ${(err as Error)?.message ?? String(err)}` });
      for (const { message } of good) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      retried = good.length;
    }
  }
  log("info", { event: "queue_batch", queue: batch.queue, messages: batch.messages.length, applied: good.length - retried, retried, deadLettered: malformed, d1RoundTrips: roundTrips });
}
