// Watch events: what players report (`POST /v1/events`), and the message the api puts on
// its profile's watch-shard Queue (`watch-events-{k}`) for each one that is not a heartbeat
// (heartbeats stay in the account's Durable Object). Shared by the api, the web player and tests.
import { z } from "zod";
import { skipSegmentKinds } from "./skip-segments.ts";

/** Types about an intro, recap or credits (lib/skip-segments.ts): the viewer skipped it, or watched it through. */
const segmentEventTypes: readonly WatchEventType[] = ["segment_skipped", "segment_watched"];

export const watchEventTypes = ["start", "heartbeat", "pause", "seek", "stop", "complete", "error", "quality_change", "segment_skipped", "segment_watched"] as const;
export type WatchEventType = (typeof watchEventTypes)[number];

/** Types that carry a position worth resuming from. */
export const progressEventTypes = ["start", "heartbeat", "pause", "seek", "stop", "complete"] as const satisfies readonly WatchEventType[];

export const MAX_EVENTS_PER_REQUEST = 100;

const id = z.string().min(1).max(64);

export const watchEventSchema = z
  .object({
    /** Made by the client (e.g. a UUID) and sent again unchanged on a retry: events count once per id. */
    id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "8-64 letters, digits, _ or -"),
    type: z.enum(watchEventTypes),
    playbackSessionId: z.string().regex(/^pbs_[A-Za-z0-9_-]{16,60}$/),
    profileId: id,
    titleId: id,
    episodeId: id.nullable().optional(),
    positionSec: z.number().min(0).max(7 * 24 * 3600),
    durationSec: z.number().positive().max(7 * 24 * 3600),
    /** When it happened on the client, in Unix milliseconds: the latest event wins, whatever order they arrive in. */
    clientTime: z.number().int().positive(),
    /** The rendition playing, e.g. "720p". */
    rendition: z.string().max(32).optional(),
    /** Time spent rebuffering since the previous event. */
    rebufferMs: z.number().int().min(0).max(3_600_000).optional(),
    /** Which segment a `segment_skipped` or `segment_watched` event is about; given for those types only. */
    segment: z.enum(skipSegmentKinds).optional(),
  })
  .strict()
  .refine((e) => segmentEventTypes.includes(e.type) === (e.segment !== undefined), {
    message: "segment is given with segment_skipped and segment_watched events, and only with them",
    path: ["segment"],
  });

export type WatchEvent = z.infer<typeof watchEventSchema>;

export const eventBatchSchema = z.object({ events: z.array(watchEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST) }).strict();

/** One Queue message per event, stamped by the api with who sent it, from where, and when. */
export const watchEventMessageSchema = z.object({
  v: z.literal(1),
  accountId: z.string().min(1),
  /** ISO 3166 alpha-2 from Cloudflare's request metadata; "XX" when unknown. */
  country: z.string().regex(/^[A-Z]{2}$/),
  receivedAt: z.number().int().positive(),
  event: watchEventSchema,
});

export type WatchEventMessage = z.infer<typeof watchEventMessageSchema>;

/**
 * What the api queues now: one message per request and shard, carrying that request's
 * events for the shard's profiles, stamped once. A Queue's batch (at most 100 messages)
 * then carries up to 10,000 events, and a request costs the Queue one message, not one
 * per event. The consumer still counts every event once by its own id. Version 1 (one
 * event a message) is still read: the account's object queues finished positions that
 * way, and older messages may wait in the dead-letter table.
 */
export const watchEventBatchMessageSchema = z.object({
  v: z.literal(2),
  accountId: z.string().min(1),
  country: z.string().regex(/^[A-Z]{2}$/),
  receivedAt: z.number().int().positive(),
  events: z.array(watchEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST),
});

export type WatchEventBatchMessage = z.infer<typeof watchEventBatchMessageSchema>;

export const queuedWatchMessageSchema = z.discriminatedUnion("v", [watchEventMessageSchema, watchEventBatchMessageSchema]);
export type QueuedWatchMessage = z.infer<typeof queuedWatchMessageSchema>;

/** The events of a queued message, each with its stamp (the form the consumer applies). */
export function eventsOf(m: QueuedWatchMessage): WatchEventMessage[] {
  if (m.v === 1) return [m];
  return m.events.map((event) => ({ v: 1, accountId: m.accountId, country: m.country, receivedAt: m.receivedAt, event }));
}
