// What plays the video: hls.js on Media Source Extensions, or the browser's own HLS where
// MSE is missing (older iOS). hls.js gets the multivariant playlist and the media
// playlists it starts on from the Play answer (a playlist loader answers those URLs from
// memory: two round trips fewer before the first frame) and puts the newest token on every
// request it makes (xhrSetup).
import Hls, {
  ErrorTypes,
  Events,
  type FragmentLoaderContext,
  type HlsConfig,
  type Loader,
  type LoaderCallbacks,
  type LoaderConfiguration,
  type PlaylistLoaderContext,
} from "hls.js";
import { SegmentPrefetch, startPosition } from "./prefetch.ts";
import { keepLiveLatency } from "./live-latency.ts";
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import { TokenHolder, withToken } from "./tokens.ts";

export type EngineHandlers = {
  /** The renditions the plan allows, as heights (tallest first). */
  onQualities(heights: number[]): void;
  /** The rendition now playing (its height, and its bitrate in bit/s, 0 when unknown), e.g. after an ABR switch. */
  onRendition(height: number, bitrate: number): void;
  /** An error the engine reported: fatal, or recovered from (by the engine, or by us). */
  onError(fatal: boolean): void;
  /** The subtitle languages the stream itself offers (HLS SUBTITLES renditions or text tracks). */
  onSubtitleTracks(langs: string[]): void;
  /** Playback cannot go on by itself: "network" (retry when back online) or "media". */
  onFatal(kind: "network" | "media", details: string): void;
};

export interface Engine {
  readonly kind: "hls.js" | "native";
  /** How many requests the Play answer's prefetch saved the engine (for the browser tests). */
  prefetched(): number;
  /** On a live event: wall clock minus the program date-time of the frame on screen, in seconds (null otherwise). */
  liveLatencySec(): number | null;
  setQuality(height: number | "auto"): void;
  setSubtitles(lang: string | null): void;
  /** A heartbeat handed out a new token (hls.js reads it per request; native HLS reloads before expiry). */
  tokenRefreshed(hlsUrl: string): void;
  /** After a network failure: load again from where it stopped. */
  retry(): void;
  stop(): void;
}

/** The URL without the CMCD query parameter hls.js adds. */
export function withoutCmcd(url: string): string {
  const at = url.indexOf("?");
  if (at < 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  params.delete("CMCD");
  const rest = params.toString();
  return rest ? `${url.slice(0, at)}?${rest}` : url.slice(0, at);
}

/** Bytes in hand for a request hls.js is about to make, with the times they took to come. */
type Answer = { data: string | ArrayBuffer; start: number; first: number; end: number };

/**
 * hls.js's own loader, except for the requests `answer` has the bytes for: those are
 * answered from them (a failed answer falls back to the network). `answer` is asked with
 * the URL as hls.js made it, CMCD query included.
 */
function answeringLoader<C extends PlaylistLoaderContext | FragmentLoaderContext>(answer: (context: C) => Promise<Answer> | undefined) {
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
          stats.loaded = stats.total = typeof got.data === "string" ? got.data.length : got.data.byteLength;
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
    // Answered on the next task, as a network load would be: hls.js finishes attaching first.
    return new Promise((resolve) =>
      setTimeout(() => {
        const now = performance.now();
        resolve({ data, start: now, first: now, end: now });
      }, 0),
    );
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
 * What the page's URL asks of the player: `?from=start` plays from the beginning whatever
 * the resume point ("Start over"); `?buffer=N` caps hls.js's forward buffer at N seconds
 * (diagnostics, and tests that need the player fetching as it plays).
 */
function urlOptions(): { startOver: boolean; bufferSec: number | null } {
  const params = new URLSearchParams(location.search);
  const buffer = Number(params.get("buffer"));
  return { startOver: params.get("from") === "start", bufferSec: Number.isFinite(buffer) && buffer >= 1 && buffer <= 120 ? buffer : null };
}

/**
 * How far behind a live event's edge hls.js plays, for 2 s segments: 3 s (1.5 segments), and
 * jumps back to that past 10 s; live-latency.ts then holds it near 4 s of wall clock.
 * tools/live/latency-probe.ts measures plain hls.js with the same numbers.
 */
export const LIVE_HLS_CONFIG = { liveSyncDuration: 3, liveMaxLatencyDuration: 10, maxLiveSyncPlaybackRate: 1.1 } as const;

function hlsJsEngine(video: HTMLVideoElement, session: StartedPlayback, tokens: TokenHolder, handlers: EngineHandlers): Engine {
  const masterUrl = session.media.hlsUrl;
  const options = urlOptions();
  const startSec = startPosition(session, options.startOver);
  // Only where hls.js will start: the variant the inline playlists are for.
  const prefetch = session.media.hlsStartVariant !== null ? new SegmentPrefetch(session.media.hlsPlaylists, startSec, (url) => tokens.rewrite(url), { sid: session.id, cid: session.titleId }) : null;
  const hls = new Hls({
    // Live: 1.5 segments behind the edge (3 s with 2 s segments), catching up at up to 1.1x
    // after a stall, so latency stays near the platform's goal (docs/live.md).
    ...(session.live ? LIVE_HLS_CONFIG : {}),
    ...(prefetch && prefetch.size > 0 ? { fLoader: prefetchingLoader(prefetch) } : {}),
    // Where the Play answer's inline playlists start (what hls.js's default estimate would pick anyway).
    ...(session.media.hlsStartVariant !== null ? { startLevel: session.media.hlsStartVariant } : {}),
    startPosition: !options.startOver && session.resume.positionSec > 0 ? session.resume.positionSec : -1,
    ...(options.bufferSec !== null ? { maxBufferLength: options.bufferSec, maxMaxBufferLength: options.bufferSec * 2 } : {}),
    ...(session.media.hlsMaster ? { pLoader: inlineLoader([{ url: masterUrl, text: session.media.hlsMaster }, ...session.media.hlsPlaylists]) } : {}),
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
  hls.attachMedia(video);

  return {
    kind: "hls.js",
    prefetched: () => prefetch?.used.length ?? 0,
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

/**
 * Native HLS cannot rewrite request URLs: before the token it plays on expires, the source
 * is reloaded from the newest URL at the same position.
 */
function nativeEngine(video: HTMLVideoElement, session: StartedPlayback, tokens: TokenHolder, handlers: EngineHandlers): Engine {
  let sourceToken = tokens.token;
  let sourceExpiresAtMs = tokens.expiresAtMs;
  const load = (url: string, at: number) => {
    const wasPaused = video.paused && at > 0;
    video.src = url;
    video.addEventListener(
      "loadedmetadata",
      () => {
        if (at > 0) video.currentTime = at;
        if (!wasPaused) void video.play().catch(() => undefined);
      },
      { once: true },
    );
  };
  video.addEventListener("resize", () => video.videoHeight > 0 && handlers.onRendition(video.videoHeight, 0));
  video.addEventListener("error", () => (handlers.onError(true), handlers.onFatal(navigator.onLine ? "media" : "network", video.error?.message ?? "media error")));
  video.textTracks.addEventListener("addtrack", () => handlers.onSubtitleTracks([...video.textTracks].map((t) => t.language).filter(Boolean)));
  handlers.onQualities([]);
  load(session.media.hlsUrl, session.resume.positionSec);
  return {
    kind: "native",
    prefetched: () => 0,
    liveLatencySec: () => null,
    setQuality() {
      // The browser chooses; the select only offers "auto".
    },
    setSubtitles(lang) {
      for (const track of video.textTracks) track.mode = lang !== null && track.language === lang ? "showing" : "disabled";
    },
    tokenRefreshed(hlsUrl) {
      if (tokens.token === sourceToken || sourceExpiresAtMs - Date.now() > 90_000) return;
      sourceToken = tokens.token;
      sourceExpiresAtMs = tokens.expiresAtMs;
      load(withToken(hlsUrl, tokens.token), video.currentTime);
    },
    retry() {
      load(tokens.rewrite(session.media.hlsUrl), video.currentTime);
    },
    stop() {
      video.removeAttribute("src");
      video.load();
    },
  };
}

/** hls.js wherever MSE (or ManagedMediaSource) exists; native HLS otherwise; null if neither. */
export function createEngine(video: HTMLVideoElement, session: StartedPlayback, tokens: TokenHolder, handlers: EngineHandlers): Engine | null {
  if (Hls.isSupported()) return hlsJsEngine(video, session, tokens, handlers);
  if (video.canPlayType("application/vnd.apple.mpegurl")) return nativeEngine(video, session, tokens, handlers);
  return null;
}
