// Putting messages on a Queue from a request: split into sendBatch calls within the
// Queue's limits, each failed call tried once more after a short jittered pause (every
// message here carries an id its consumer dedupes by, so a second send is harmless).
import { log } from "../../../lib/log.ts";

/** A Queue's sendBatch takes at most 100 messages and 256 KB. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 250 * 1024;

/** Splits messages into sendBatch calls within the Queue's count and size limits. */
export function sendBatches<M>(messages: M[]): M[][] {
  const batches: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = JSON.stringify(m).length + 100; // the body plus per-message overhead
    if (current.length === MAX_BATCH_MESSAGES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Sends every message; throws (after logging) when a batch fails twice. */
export async function sendToQueue(queue: Queue, name: string, messages: unknown[], requestId: string): Promise<void> {
  try {
    for (const batch of sendBatches(messages)) {
      const send = () => queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
      await send().catch(async (err: unknown) => {
        log("warn", { event: "dependency_failed", requestId, dependency: "queue", message: `${name} sendBatch, retrying once: ${(err as Error)?.message ?? String(err)}` });
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
        return send();
      });
    }
  } catch (err) {
    log("error", { event: "dependency_failed", requestId, dependency: "queue", message: `${name} sendBatch: ${(err as Error)?.message ?? String(err)}` });
    throw err;
  }
}
