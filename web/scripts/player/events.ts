// Watch events (docs/watch-events.md): recorded as they happen, sent in batches to
// POST /v1/events at every heartbeat and on leave. Each event's id is made here and kept
// when a batch is sent again (a 503 or a lost answer), so the consumer counts it once.
import type { SkipSegmentKind } from "../../../lib/skip-segments.ts";
import type { WatchEvent, WatchEventType } from "../../../lib/watch-events.ts";
import { Api } from "./api.ts";
import { newId } from "./format.ts";

const MAX_PER_REQUEST = 100;
/** Kept while the api cannot be reached; the oldest go first beyond this. */
const MAX_QUEUED = 500;
/** keepalive requests share a 64 KiB budget per page: the last batch stays well under it. */
const LEAVE_BATCH = 60;

export type EventContext = {
  playbackSessionId: string;
  profileId: string;
  titleId: string;
  episodeId: string | null;
  durationSec: number;
};

export type PlaybackSnapshot = { positionSec: number; durationSec: number; rendition: string | null };

export class WatchEvents {
  private queue: WatchEvent[] = [];
  private sending: Promise<void> | null = null;
  private rebufferMs = 0;
  private stalledSince: number | null = null;
  /** Every event recorded, for the browser tests and debugging (`window.__marqueePlayer`). */
  readonly log: { type: WatchEventType; positionSec: number; at: number; segment?: SkipSegmentKind }[] = [];
  sentBatches = 0;

  constructor(
    private readonly api: Api,
    private readonly context: EventContext,
    private readonly snapshot: () => PlaybackSnapshot,
  ) {}

  /** Waiting for data (`waiting`), and playing again: rebuffering time goes into the next event. */
  stalled(): void {
    this.stalledSince ??= Date.now();
  }

  resumed(): void {
    if (this.stalledSince !== null) this.rebufferMs += Date.now() - this.stalledSince;
    this.stalledSince = null;
  }

  /** `segment`: the skip segment of a segment_skipped or segment_watched (and of no other type). */
  record(type: WatchEventType, overrides: Partial<Pick<WatchEvent, "positionSec" | "rendition" | "segment">> = {}): void {
    // Events belong to a profile: without the page's profile-id (none entered when it was
    // rendered) there is nothing valid to send.
    if (!this.context.profileId) return;
    const now = this.snapshot();
    if (this.stalledSince !== null) {
      this.rebufferMs += Date.now() - this.stalledSince;
      this.stalledSince = Date.now();
    }
    const duration = this.context.durationSec > 0 ? this.context.durationSec : now.durationSec;
    const positionSec = Math.round(Math.max(0, Math.min(overrides.positionSec ?? now.positionSec, 7 * 24 * 3600)) * 1000) / 1000;
    const rendition = overrides.rendition ?? now.rendition;
    const event: WatchEvent = {
      id: newId(),
      type,
      playbackSessionId: this.context.playbackSessionId,
      profileId: this.context.profileId,
      titleId: this.context.titleId,
      ...(this.context.episodeId ? { episodeId: this.context.episodeId } : {}),
      positionSec,
      durationSec: duration > 0 ? Math.min(duration, 7 * 24 * 3600) : 1,
      clientTime: Date.now(),
      ...(rendition ? { rendition: rendition.slice(0, 32) } : {}),
      rebufferMs: Math.min(Math.round(this.rebufferMs), 3_600_000),
      ...(overrides.segment ? { segment: overrides.segment } : {}),
    };
    this.rebufferMs = 0;
    this.queue.push(event);
    if (this.queue.length > MAX_QUEUED) this.queue.splice(0, this.queue.length - MAX_QUEUED);
    this.log.push({ type, positionSec, at: event.clientTime, ...(overrides.segment ? { segment: overrides.segment } : {}) });
  }

  /** Sends what is queued, a batch at a time; a failed batch stays queued with its ids. */
  flush(): Promise<void> {
    if (this.sending) return this.sending;
    this.sending = this.sendAll().finally(() => (this.sending = null));
    return this.sending;
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, MAX_PER_REQUEST);
      let status: number;
      try {
        // keepalive: a batch in flight as the tab closes still arrives.
        status = (await this.api.call("POST", "/v1/events", { events: batch }, { keepalive: true })).status;
      } catch {
        return; // offline: the same batch goes with the next flush
      }
      if (status === 503 || status === 429 || status >= 500) return;
      // Accepted, or refused for good (a 4xx will not pass on a resend): either way it is done.
      this.queue = this.queue.filter((e) => !batch.includes(e));
      this.sentBatches++;
      if (status !== 202) console.warn(`watch events refused (${status}); ${batch.length} dropped`);
    }
  }

  /**
   * The last send, as the page goes away: the newest events with `keepalive` (the browser
   * finishes the request after the page is gone). A batch already in flight may be sent
   * twice; the ids make that harmless.
   */
  flushOnLeave(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue.slice(-LEAVE_BATCH);
    this.queue = [];
    this.api.send("POST", "/v1/events", { events: batch });
    this.sentBatches++;
  }
}
