// Where the media Worker's CMCD records go: gathered in the isolate for up to `batchMs`
// (or MAX_RECORDS of them) and sent as ONE message on the `qoe` Queue — a Queue bills by
// message, and a segment request must not cost one — from waitUntil, never in the
// viewer's way. With the QOE Analytics Engine dataset bound (production), every record is
// also a raw point there at once. A failed send is logged and dropped: CMCD is telemetry,
// the segment was served either way.
import { log } from "../../../lib/log.ts";
import { cmcdPoint } from "../../../lib/qoe-analytics.ts";
import type { CmcdMessage, CmcdRecord } from "../../../lib/qoe.ts";

/** Records per Queue message: about 250 bytes each, well inside a message's 128 KB. */
export const MAX_RECORDS = 100;
export const DEFAULT_BATCH_MS = 1000;

export type CmcdSinkEnv = { QOE_EVENTS: Queue; QOE?: AnalyticsEngineDataset };

export class CmcdSink {
  private buffer: CmcdRecord[] = [];
  private scheduled = false;
  sentMessages = 0;

  constructor(private readonly batchMs = DEFAULT_BATCH_MS) {}

  add(env: CmcdSinkEnv, ctx: { waitUntil(promise: Promise<unknown>): void }, record: CmcdRecord): void {
    if (env.QOE) {
      try {
        env.QOE.writeDataPoint(cmcdPoint(record));
      } catch (err) {
        log("warn", { event: "dependency_failed", requestId: "", dependency: "analytics_engine", message: String(err) });
      }
    }
    this.buffer.push(record);
    if (this.buffer.length >= MAX_RECORDS) {
      ctx.waitUntil(this.flush(env));
    } else if (!this.scheduled) {
      // The first record of a batch keeps its request's waitUntil open until the batch goes.
      this.scheduled = true;
      ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, this.batchMs)).then(() => this.flush(env)));
    }
  }

  async flush(env: CmcdSinkEnv): Promise<void> {
    this.scheduled = false;
    while (this.buffer.length > 0) {
      const records = this.buffer.splice(0, MAX_RECORDS);
      const message: CmcdMessage = { v: 1, kind: "cmcd", records };
      try {
        await env.QOE_EVENTS.send(message, { contentType: "json" });
        this.sentMessages++;
      } catch (err) {
        log("warn", { event: "dependency_failed", requestId: "", dependency: "queue", message: `qoe send of ${records.length} CMCD records: ${(err as Error)?.message ?? String(err)}` });
      }
    }
  }
}
