// The `watch-events` Queue consumer. Until watch-event processing lands (see the "Watch
// events" issue) it keeps every message: each is retried, so none is acknowledged unread
// and lost; after `max_retries` the Queue moves it to the dead-letter queue.
import { log } from "../../../lib/log.ts";
import type { Bindings } from "../env.ts";

export async function consumeWatchEvents(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  void env;
  batch.retryAll({ delaySeconds: 60 });
  log("warn", {
    event: "queue_batch",
    queue: batch.queue,
    messages: batch.messages.length,
    outcome: "retried",
    reason: "no watch-event processor is deployed yet",
  });
}
