// The DASH MPD (static, CMAF with SegmentTemplate + SegmentTimeline) generated from an asset's
// rendition index, with its skip segments (lib/skip-segments.ts) as a Period EventStream.
import type {
  AudioTrack,
  RenditionIndex,
  SegmentList,
  SubtitleTrack,
  VideoRendition,
} from "../../../lib/media-index.ts";
import { SKIP_EVENT_SCHEME, type VisibleSkipSegment } from "../../../lib/skip-segments.ts";
import { allowedVideo } from "./ladder.ts";
import { skipKindNumber, skipSpans, type SkipSpan } from "./skip.ts";
import { steered, type ManifestPathways } from "./pathways.ts";
import { encodePath } from "./uri.ts";

const MPD_NAMESPACE = "urn:mpeg:dash:schema:mpd:2011";
const LIVE_PROFILE = "urn:mpeg:dash:profile:isoff-live:2011";
const ROLE_SCHEME = "urn:mpeg:dash:role:2011";
const CHANNEL_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
/** Skip segments' EventStream timescale: they are kept in whole milliseconds. */
const SKIP_TIMESCALE = 1000;

type Attributes = Record<string, string | number | undefined>;

/** What makes an MPD dynamic: a live event's window (lib/live/live-state.ts), and the clock it is served at. */
export type LiveMpd = {
  startedAtMs: number;
  writtenAtMs: number;
  nowMs: number;
  targetDurationSec: number;
  dvrWindowSec: number;
  discontinuitySequence: number;
  runStartsMs: { startNumber: number; pdtMs: number; originPdtMs?: number | undefined }[];
};

/**
 * One run of a track's segments: a Period's worth (the media's clock restarts between runs).
 * `pto` is the media time at the Period's start: the run's first segment's, or for a live
 * window that begins inside a run, where that run began.
 */
type Slice = { timescale: number; startNumber: number; startTime: number; pto: number; durations: number[] };

/**
 * The MPD for the renditions the height cap allows, plus every audio and subtitle track.
 * With nothing allowed the Period is empty (no audio-only fallback), mirroring the HLS
 * playlist; callers should answer 403 from `allowedVideo` first. Every URL is relative and
 * there is no MPD-level BaseURL, so the token in the request path carries over. Each run
 * of the media (a live broadcaster that reconnected) is a Period of its own; with `live`,
 * the MPD is dynamic: its Periods start at their program date-time after availabilityStartTime.
 * A static MPD with `skip` segments gives the Period each one starts in an EventStream
 * (skipEvents); without them it is unchanged.
 */
export function dashManifest(index: RenditionIndex, maxHeight: number, live?: LiveMpd, skip: readonly VisibleSkipSegment[] = [], pathways?: ManifestPathways): string {
  const videos = allowedVideo(index, maxHeight);
  const audio = videos.length > 0 ? index.audio : [];
  const subtitles = videos.length > 0 ? index.subtitles : [];
  // A live window has none (skip segments are for on-demand media).
  const spans = videos.length > 0 && !live ? skipSpans(index, skip) : [];
  const tracks = [...videos, ...audio];
  const reference = index.video[0]!.segments;
  const runs = slices(reference);
  const periods: string[] = [];
  let offsetSec = 0;
  runs.forEach((run, k) => {
    const dated = live?.runStartsMs.find((r) => r.startNumber === run.startNumber);
    const originMs = dated ? (dated.originPdtMs ?? dated.pdtMs) : undefined;
    const sliceOf = (segments: SegmentList): Slice => {
      const slice = slices(segments).find((s) => s.startNumber === run.startNumber) ?? slices(segments)[k] ?? slices(segments)[0]!;
      if (!dated || originMs === undefined) return slice;
      // The window began inside the run: the Period (and its offset) stay where the run began.
      return { ...slice, pto: Math.max(0, slice.startTime - Math.round(((dated.pdtMs - originMs) * slice.timescale) / 1000)) };
    };
    const runSec = run.durations.reduce((a, b) => a + b, 0) / run.timescale;
    // AdaptationSet ids: video 0, then audio, then subtitles, in index order; in schema
    // order, after the EventStream.
    const content = [
      ...skipEvents(spans, Math.round(offsetSec * 1000), k + 1 < runs.length ? Math.round((offsetSec + runSec) * 1000) : Infinity),
      ...(videos.length > 0 ? videoSet(videos, 0, sliceOf) : []),
      ...audio.flatMap((track, i) => audioSet(track, 1 + i, sliceOf)),
      ...(runs.length === 1 ? subtitles.flatMap((subtitle, i) => subtitleSet(subtitle, 1 + audio.length + i, index)) : []),
    ];
    const startSec = live && originMs !== undefined ? (originMs - live.startedAtMs) / 1000 : offsetSec;
    // A Period's id must not change from one update of a dynamic MPD to the next: the run's ordinal.
    const id = runs.length === 1 && !live ? "0" : `p${(live?.discontinuitySequence ?? 0) + k}`;
    periods.push(...element("Period", { id, start: runs.length === 1 && !live ? "PT0S" : isoDuration(startSec) }, content));
    offsetSec += runSec;
  });
  const mpd = live
    ? {
        xmlns: MPD_NAMESPACE,
        profiles: LIVE_PROFILE,
        type: "dynamic",
        availabilityStartTime: new Date(live.startedAtMs).toISOString(),
        publishTime: new Date(live.writtenAtMs).toISOString(),
        minimumUpdatePeriod: isoDuration(live.targetDurationSec),
        timeShiftBufferDepth: isoDuration(live.dvrWindowSec),
        // Two segments behind the edge: the latency the platform aims at (docs/live.md).
        suggestedPresentationDelay: isoDuration(2 * live.targetDurationSec),
        minBufferTime: isoDuration(minBufferSec(tracks, index)),
      }
    : {
        xmlns: MPD_NAMESPACE,
        profiles: LIVE_PROFILE,
        type: "static",
        mediaPresentationDuration: isoDuration(index.durationSec),
        minBufferTime: isoDuration(minBufferSec(tracks, index)),
      };
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    open("MPD", mpd),
    ...indent(steered(pathways) ? steering(pathways) : []),
    ...indent(periods),
    // A dynamic MPD's clock: players sync to this instead of trusting the device's.
    ...(live ? indent([empty("UTCTiming", { schemeIdUri: "urn:mpeg:dash:utc:direct:2014", value: new Date(live.nowMs).toISOString() })]) : []),
    "</MPD>",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * DASH Content Steering (DASH-IF CTS, ISO/IEC 23009-1 6th ed.): one MPD-level BaseURL per
 * pathway, named by @serviceLocation, every other URL relative to it, and the steering
 * server with the pathway to start on. A player that ignores steering uses the first.
 */
function steering(pathways: ManifestPathways): string[] {
  const ordered = [pathways.initial, ...pathways.ids.filter((id) => id !== pathways.initial)];
  return [
    ...ordered.map((id) => `<BaseURL serviceLocation="${xmlEscape(id)}">${xmlEscape(pathways.base(id))}</BaseURL>`),
    `<ContentSteering defaultServiceLocation="${xmlEscape(pathways.initial)}" queryBeforeStart="false">${xmlEscape(pathways.serverUri)}</ContentSteering>`,
  ];
}

/**
 * The skip segments that start in the Period spanning `fromMs`..`toMs` of the presentation:
 * one Event each, timed from the Period's start in milliseconds and cut at its end (Shaka
 * cuts an Event there too, after DASH 5.10.2.1). The kind is the Event's messageData, which
 * dash.js (`event.messageData`) and Shaka (`region.eventNode.attributes.messageData`) hand
 * over; @id is a number, as the schema wants, and the same for a kind from edit to edit.
 */
function skipEvents(spans: SkipSpan[], fromMs: number, toMs: number): string[] {
  const within = spans.filter((span) => span.startMs >= fromMs && span.startMs < toMs);
  if (within.length === 0) return [];
  const events = within.map((span) =>
    empty("Event", {
      presentationTime: span.startMs - fromMs,
      duration: Math.min(span.endMs, toMs) - span.startMs,
      id: skipKindNumber(span.kind),
      messageData: span.kind,
    }),
  );
  return element("EventStream", { schemeIdUri: SKIP_EVENT_SCHEME, timescale: SKIP_TIMESCALE }, events);
}

/** A track's segments split into its runs (one run from time 0 when the list has none). */
function slices(segments: SegmentList): Slice[] {
  const runs = segments.runs && segments.runs.length > 0 ? segments.runs : [{ startNumber: segments.startNumber, startTime: 0 }];
  return runs.map((run, i) => {
    const from = run.startNumber - segments.startNumber;
    const to = i + 1 < runs.length ? runs[i + 1]!.startNumber - segments.startNumber : segments.durations.length;
    return { timescale: segments.timescale, startNumber: run.startNumber, startTime: run.startTime, pto: run.startTime, durations: segments.durations.slice(from, to) };
  });
}

function videoSet(videos: VideoRendition[], id: number, sliceOf: (segments: SegmentList) => Slice): string[] {
  const representations = videos.flatMap((video) =>
    element(
      "Representation",
      {
        id: video.id,
        bandwidth: video.bandwidth,
        width: video.width,
        height: video.height,
        frameRate: frameRate(video.frameRate),
        codecs: video.codecs,
      },
      segmentTemplate(sliceOf(video.segments)),
    ),
  );
  return element(
    "AdaptationSet",
    {
      id,
      contentType: "video",
      mimeType: "video/mp4",
      segmentAlignment: "true",
      startWithSAP: "1",
      maxWidth: Math.max(...videos.map((video) => video.width)),
      maxHeight: Math.max(...videos.map((video) => video.height)),
    },
    representations,
  );
}

function audioSet(track: AudioTrack, id: number, sliceOf: (segments: SegmentList) => Slice): string[] {
  const representation = element(
    "Representation",
    { id: track.id, bandwidth: track.bandwidth, codecs: track.codecs, audioSamplingRate: track.sampleRate },
    [empty("AudioChannelConfiguration", { schemeIdUri: CHANNEL_SCHEME, value: track.channels }), ...segmentTemplate(sliceOf(track.segments))],
  );
  return element(
    "AdaptationSet",
    { id, contentType: "audio", mimeType: "audio/mp4", lang: track.lang, segmentAlignment: "true", startWithSAP: "1" },
    [
      // Schema order: Label before Role before Representation.
      `<Label>${xmlEscape(track.name)}</Label>`,
      empty("Role", { schemeIdUri: ROLE_SCHEME, value: track.default ? "main" : "alternate" }),
      ...representation,
    ],
  );
}

function subtitleSet(subtitle: SubtitleTrack, id: number, index: RenditionIndex): string[] {
  const representation = element(
    "Representation",
    // @bandwidth is mandatory; the file's own size over the asset's length is an honest figure.
    { id: `subs-${subtitle.lang.replace(/\s+/g, "_")}`, bandwidth: subtitleBandwidth(subtitle, index) },
    [`<BaseURL>${xmlEscape(encodePath(subtitle.path))}</BaseURL>`],
  );
  return element("AdaptationSet", { id, contentType: "text", mimeType: "text/vtt", lang: subtitle.lang }, [
    `<Label>${xmlEscape(subtitle.name)}</Label>`,
    empty("Role", { schemeIdUri: ROLE_SCHEME, value: "subtitle" }),
    ...representation,
  ]);
}

function segmentTemplate(slice: Slice): string[] {
  const timeline = runs(slice.durations).map((run, i) =>
    // Only the first entry needs t: every later one starts where the previous ended.
    empty("S", { t: i === 0 ? slice.startTime : undefined, d: run.duration, r: run.repeat > 0 ? run.repeat : undefined }),
  );
  return element(
    "SegmentTemplate",
    {
      timescale: slice.timescale,
      // The media's own clock at the Period's start: its first sample plays at the Period's start.
      presentationTimeOffset: slice.pto > 0 ? slice.pto : undefined,
      initialization: "$RepresentationID$/init.m4s",
      media: "$RepresentationID$/$Number$.m4s",
      startNumber: slice.startNumber,
    },
    element("SegmentTimeline", {}, timeline),
  );
}

/** Run-length encoding of equal consecutive durations, as SegmentTimeline's `r` expresses them. */
export function runs(durations: number[]): { duration: number; repeat: number }[] {
  const result: { duration: number; repeat: number }[] = [];
  for (const duration of durations) {
    const last = result.at(-1);
    if (last && last.duration === duration) last.repeat += 1;
    else result.push({ duration, repeat: 0 });
  }
  return result;
}

/**
 * DASH's FrameRateType is an integer or a ratio, never a decimal: 24 → "24", the NTSC rates
 * (23.976, 29.97, 59.94) → "N/1001", anything else → thousandths reduced.
 */
export function frameRate(fps: number): string {
  if (Number.isInteger(fps)) return String(fps);
  const ntsc = Math.round((fps * 1001) / 1000);
  if (Math.abs((ntsc * 1000) / 1001 - fps) < 0.005) return `${ntsc * 1000}/1001`;
  const numerator = Math.round(fps * 1000);
  const divisor = gcd(numerator, 1000);
  return divisor === 1000 ? String(numerator / 1000) : `${numerator / divisor}/${1000 / divisor}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The longest single segment: with @bandwidth the peak over one segment, that much buffer always suffices. */
function minBufferSec(tracks: { segments: SegmentList }[], index: RenditionIndex): number {
  const longest = tracks.map(({ segments }) => Math.max(...segments.durations) / segments.timescale);
  return Math.max(index.segmentDurationSec, ...longest);
}

function subtitleBandwidth(subtitle: SubtitleTrack, index: RenditionIndex): number {
  const bytes = index.files.find((file) => file.path === subtitle.path)?.bytes ?? 0;
  return Math.max(1, Math.ceil((bytes * 8) / index.durationSec));
}

/** xs:duration in seconds only (PT7200.000S is valid); three decimals keep millisecond precision. */
function isoDuration(sec: number): string {
  return `PT${sec.toFixed(3)}S`;
}

function element(name: string, attributes: Attributes, children: string[]): string[] {
  return [open(name, attributes), ...indent(children), `</${name}>`];
}

function open(name: string, attributes: Attributes): string {
  return `<${name}${attributeText(attributes)}>`;
}

function empty(name: string, attributes: Attributes): string {
  return `<${name}${attributeText(attributes)}/>`;
}

function attributeText(attributes: Attributes): string {
  return Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${xmlEscape(String(value))}"`)
    .join("");
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

/**
 * Escapes markup and whitespace that attribute normalisation would mangle, and drops the
 * control characters XML 1.0 forbids outright (no escape makes them legal).
 */
export function xmlEscape(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}
