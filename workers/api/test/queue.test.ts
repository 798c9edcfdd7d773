// The watch-events consumer, until event processing lands: nothing is acknowledged unread.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../index.ts";

describe("the watch-events consumer", () => {
  it("retries every message rather than dropping it", async () => {
    const batch = createMessageBatch("watch-events", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { type: "start" } },
      { id: "m2", timestamp: new Date(), attempts: 1, body: { type: "stop" } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
    expect(result.ackAll).toBe(false);
  });
});
