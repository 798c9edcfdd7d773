// hls.js, loaded as a bundle of its own (web/dist's player-hls.js): the watch page's
// first frame comes before it (./first-frame.ts), and hls.js takes the MediaSource over
// from there, or starts it itself where the first frame could not come without it.
// hls.js gets the multivariant playlist and the media playlists it starts on from the Play
// answer (a playlist loader answers those URLs from memory: two round trips fewer before
// the first frame) and puts the newest token on every request it makes (xhrSetup).
import Hls, {
  ErrorTypes,
  Events,
  type FragmentLoaderContext,
  type HlsConfig,
  type Loader,
  type LoaderCallbacks,
  type LoaderConfiguration,
  type LoaderContext,
  type PlaylistLoaderContext,
  type SourceBufferTrackSet,
} from "hls.js";
import type { Engine, EngineHandlers, EngineStart } from "./engine-types.ts";
import type { SegmentPrefetch } from "./prefetch.ts";
import { keepLiveLatency } from "./live-latency.ts";
import type { SteeringManifest } from "../../../lib/hls-start.ts";
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import type { TokenHolder } from "./tokens.ts";

/** The URL without the CMCD query parameter hls.js adds. */
export function withoutCmcd(url: string): string {
  const at = url.indexOf("?");
  if (at < 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  params.delete("CMCD");
  const rest = params.toString();
  return rest ? `${url.slice(0, at)}?${rest}` : url.slice(0, at);
}

/** Bytes in hand for a request hls.js is about to make (a JSON load's parsed value), with the times they took to come. */
type Answer = { data: string | ArrayBuffer | SteeringManifest; start: number; first: number; end: number };

/**
 * hls.js's own loader, except for the requests `answer` has the bytes for: those are
 * answered from them (a failed answer falls back to the network). `answer` is asked with
 * the URL as hls.js made it, CMCD query included.
 */
function answeringLoader<C extends LoaderContext>(answer: (context: C) => Promise<Answer> | undefined) {
  const Base = Hls.DefaultConfig.loader;
  return class AnsweringLoader implements Loader<C> {
    private readonly inner: Loader<C>;
    private aborted = false;
    context: C | null = null;

    constructor(config: HlsConfig) {
      this.inner = new Base(config) as unknown as Loader<C>;
    }

    get stats() {
      return this.inner.stats;
    }

    load(context: C, config: LoaderConfiguration, callbacks: LoaderCallbacks<C>): void {
      this.context = context;
      const answered = answer(context);
      if (!answered) {
        this.inner.load(context, config, callbacks);
        return;
      }
      answered.then(
        (got) => {
          if (this.aborted) return;
          const stats = this.inner.stats;
          stats.loading.start = got.start;
          stats.loading.first = got.first;
          stats.loading.end = got.end;
          stats.loaded = stats.total = typeof got.data === "string" ? got.data.length : got.data instanceof ArrayBuffer ? got.data.byteLength : 0;
          callbacks.onSuccess({ url: context.url, data: got.data }, stats, context, null);
        },
        () => !this.aborted && this.inner.load(context, config, callbacks),
      );
    }

    abort(): void {
      this.aborted = true;
      this.inner.abort();
    }

    destroy(): void {
      this.aborted = true;
      this.inner.destroy();
    }

    getCacheAge(): number | null {
      return this.inner.getCacheAge?.() ?? null;
    }

    getResponseHeader(name: string): string | null {
      return this.inner.getResponseHeader?.(name) ?? null;
    }
  };
}

/**
 * A playlist loader answering the Play answer's playlists (the multivariant playlist and
 * the media playlists hls.js starts on) from memory, each once; everything else loads as usual.
 */
function inlineLoader(playlists: { url: string; text: string }[]): NonNullable<HlsConfig["pLoader"]> {
  const pending = new Map(playlists.map((p) => [p.url, p.text]));
  return answeringLoader<PlaylistLoaderContext>((context) => {
    // CMCD adds its query parameter to the URL before any loader sees it.
    const url = withoutCmcd(context.url);
    const data = pending.get(url);
    if (data === undefined) return undefined;
    pending.delete(url);
    return onNextTask(data);
  });
}

/** Answered on the next task, as a network load would be: hls.js finishes attaching first. */
const onNextTask = (data: Answer["data"]) =>
  new Promise<Answer>((resolve) =>
    setTimeout(() => {
      const now = performance.now();
      resolve({ data, start: now, first: now, end: now });
    }, 0),
  );

/**
 * hls.js's loader for what neither of the other two loads — the steering manifest among it —
 * answering its first steering load with the Play answer's manifest: hls.js asks a steered
 * master's steering server the moment it has parsed the master, and that answer is in hand.
 * Its TTL later, hls.js asks the server, and every time after.
 */
function steeringLoader(manifest: SteeringManifest): NonNullable<HlsConfig["loader"]> {
  let inHand: SteeringManifest | null = manifest;
  return answeringLoader<LoaderContext>((context) => {
    if (inHand === null || context.type !== ("steering-manifest" as LoaderContext["type"])) return undefined;
    const data = inHand;
    inHand = null;
    return onNextTask(data);
  });
}

/** A fragment loader that answers the prefetched first segments from memory; everything else loads as usual. */
function prefetchingLoader(prefetch: SegmentPrefetch): NonNullable<HlsConfig["fLoader"]> {
  // hls.js sets rangeEnd only for a byte range (EXT-X-BYTERANGE); 0 or undefined is the whole file.
  return answeringLoader<FragmentLoaderContext>((context) => (context.rangeEnd ? undefined : prefetch.take(withoutCmcd(context.url))));
}

/** Text tracks for the cues hls.js parses (one per language), made with addTextTrack(). */
class CueTracks {
  private readonly tracks = new Map<string, TextTrack>();
  private readonly seen = new Map<string, Set<string>>();
  private showing: string | null = null;

  constructor(private readonly video: HTMLVideoElement) {}

  add(kind: "captions" | "subtitles", label: string, key: string, cues: VTTCue[]): void {
    let track = this.tracks.get(key);
    if (!track) {
      track = this.video.addTextTrack(kind, label, key);
      track.mode = this.showing === key ? "showing" : "hidden";
      this.tracks.set(key, track);
      this.seen.set(key, new Set());
    }
    const seen = this.seen.get(key)!;
    for (const cue of cues) {
      // Segmented WebVTT may repeat a cue across files.
      const id = `${cue.startTime}|${cue.endTime}|${cue.text}`;
      if (seen.has(id)) continue;
      seen.add(id);
      // Cues without a position of their own sit above the controls, not under them.
      if (cue.line === "auto") {
        cue.snapToLines = false;
        cue.line = 80;
        cue.lineAlign = "end";
      }
      track.addCue(cue);
    }
  }

  show(key: string | null): void {
    this.showing = key;
    for (const [k, track] of this.tracks) track.mode = k === key ? "showing" : "hidden";
  }
}

function uniqueHeights(heights: number[]): number[] {
  return [...new Set(heights.filter((h) => h > 0))].sort((a, b) => b - a);
}

/**
 * How far behind a live event's edge hls.js plays, for 2 s segments: 3 s (1.5 segments), and
 * jumps back to that past 10 s; live-latency.ts then holds it near 4 s of wall clock.
 * tools/live/latency-probe.ts measures plain hls.js with the same numbers.
 */
export const LIVE_HLS_CONFIG = { liveSyncDuration: 3, liveMaxLatencyDuration: 10, maxLiveSyncPlaybackRate: 1.1 } as const;

/**
 * hls.js on `video`: on the MediaSource the first frame opened (`start.handover`), from the
 * position it plays at, or from nothing.
 */
export function hlsJsEngine(video: HTMLVideoElement, session: StartedPlayback, tokens: TokenHolder, handlers: EngineHandlers, start: EngineStart): Engine {
  const masterUrl = session.media.hlsUrl;
  const { options, prefetch, handover } = start;
  const hls = new Hls({
    // Live: 1.5 segments behind the edge (3 s with 2 s segments), catching up at up to 1.1x
    // after a stall, so latency stays near the platform's goal (docs/live.md).
    ...(session.live ? LIVE_HLS_CONFIG : {}),
    ...(prefetch && prefetch.size > 0 ? { fLoader: prefetchingLoader(prefetch) } : {}),
    // Where the Play answer's inline playlists start (what hls.js's default estimate would pick anyway).
    ...(session.media.hlsStartVariant !== null ? { startLevel: session.media.hlsStartVariant } : {}),
    // After a first frame: where it plays now (hls.js seeks only forward to its start position).
    startPosition: handover ? video.currentTime : start.positionSec > 0 ? start.positionSec : -1,
    // `?buffer=N` caps the forward buffer at N s: hls.js's own ceiling too (maxMaxBufferLength),
    // which it otherwise climbs to on a fast network (at 2N it had fetched all of a 12 s film).
    ...(options.bufferSec !== null ? { maxBufferLength: options.bufferSec, maxMaxBufferLength: options.bufferSec } : {}),
    ...(session.media.hlsMaster ? { pLoader: inlineLoader([{ url: masterUrl, text: session.media.hlsMaster }, ...session.media.hlsPlaylists]) } : {}),
    ...(session.media.hlsMaster && session.media.hlsSteering ? { loader: steeringLoader(session.media.hlsSteering) } : {}),
    // CMCD (CTA-5004) on every request, as a query parameter (headers would cost a CORS
    // preflight per request across origins): the media Worker reads it for the operator's
    // session timeline and never lets it reach the cache key. sid = the stream id, so the
    // timeline and the stream are one thing to look up.
    cmcd: { sessionId: session.id, contentId: session.titleId, useHeaders: false },
    // Every request on the newest token: the URLs hls.js resolved from the first playlist carry the first one.
    xhrSetup: (xhr, url) => xhr.open("GET", tokens.rewrite(url), true),
    // hls.js's own text tracks are <track src="data:,WEBVTT"> elements, which the CSP's
    // media-src refuses: it hands us the cues instead, shown on tracks made with
    // addTextTrack() (no element, no URL). No metadata tracks either (same <track> trick):
    // not even for the skip segments' EXT-X-DATERANGE tags, which the Play answer gives us already.
    renderTextTracksNatively: false,
    enableID3MetadataCues: false,
    enableEmsgMetadataCues: false,
    enableDateRangeMetadataCues: false,
  });
  let mediaRecoveries = 0;
  let parsed = false;

  hls.on(Events.MANIFEST_PARSED, (_e, data) => {
    parsed = true;
    // Nothing on screen until the viewer (or the Play answer's default) asks for it.
    if (hls.subtitleTrack !== -1) hls.subtitleTrack = -1;
    handlers.onQualities(uniqueHeights(data.levels.map((l) => l.height)));
    handlers.onSubtitleTracks(data.subtitleTracks.map((t) => t.lang ?? "").filter(Boolean));
  });
  hls.on(Events.SUBTITLE_TRACKS_UPDATED, (_e, data) => handlers.onSubtitleTracks(data.subtitleTracks.map((t) => t.lang ?? "").filter(Boolean)));
  const text = new CueTracks(video);
  hls.on(Events.CUES_PARSED, (_e, data) => {
    const lang = data.subtitleTrack?.lang ?? data.closedCaptions?.lang ?? "";
    text.add(data.type, data.subtitleTrack?.name ?? data.track, lang || data.track, data.cues as VTTCue[]);
  });
  const stopLatency = session.live ? keepLiveLatency(video, () => hls.playingDate) : () => undefined;
  hls.on(Events.LEVEL_SWITCHED, (_e, data) => {
    const level = hls.levels[data.level];
    if (level?.height) handlers.onRendition(level.height, level.bitrate);
  });
  hls.on(Events.ERROR, (_e, data) => {
    if (!data.fatal) {
      handlers.onError(false);
      return;
    }
    if (data.type === ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
      mediaRecoveries++;
      handlers.onError(false);
      hls.recoverMediaError();
      return;
    }
    handlers.onError(true);
    handlers.onFatal(data.type === ErrorTypes.NETWORK_ERROR ? "network" : "media", data.details);
  });

  hls.loadSource(masterUrl);
  if (handover) {
    // The first frame's SourceBuffers, as hls.js's own tracks: it appends on to them.
    const tracks: SourceBufferTrackSet = {
      video: { id: "main", buffer: handover.video.buffer, codec: handover.video.codec, levelCodec: handover.video.codec, container: handover.video.container, listeners: [] },
      ...(handover.audio ? { audio: { id: "audio", buffer: handover.audio.buffer, codec: handover.audio.codec, levelCodec: handover.audio.codec, container: handover.audio.container, listeners: [] } } : {}),
    };
    hls.attachMedia({ media: video, mediaSource: handover.mediaSource, tracks });
  } else {
    hls.attachMedia(video);
  }

  return {
    kind: "hls.js",
    prefetched: () => prefetch?.used.length ?? 0,
    firstFrameBy: () => (handover ? "first-frame" : "hls.js"),
    ready: () => true,
    liveLatencySec: () => (session.live && hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null),
    setQuality(height) {
      if (height === "auto") {
        hls.currentLevel = -1;
        return;
      }
      // The highest bitrate of that height.
      let best = -1;
      hls.levels.forEach((level, i) => {
        if (level.height === height && (best < 0 || level.bitrate > hls.levels[best]!.bitrate)) best = i;
      });
      if (best >= 0) hls.currentLevel = best;
    },
    setSubtitles(lang) {
      const index = lang === null ? -1 : hls.subtitleTracks.findIndex((t) => t.lang === lang);
      hls.subtitleDisplay = index >= 0;
      hls.subtitleTrack = index;
      text.show(index >= 0 ? lang : null);
    },
    tokenRefreshed() {
      // hls.js asks xhrSetup for every request: nothing to do.
    },
    retry() {
      if (!parsed) {
        hls.loadSource(tokens.rewrite(masterUrl));
      } else {
        hls.startLoad(video.currentTime);
      }
    },
    stop() {
      stopLatency();
      hls.stopLoad();
    },
  };
}
