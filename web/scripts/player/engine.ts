// What plays the video: hls.js on Media Source Extensions, or the browser's own HLS where
// MSE is missing (older iOS). hls.js is a bundle of its own (./hls-engine.ts, web/dist's
// player-hls.js), loaded after the first frame: the frame itself comes from the Play
// answer's inline playlists and prefetched segments on a MediaSource this file opens
// (./first-frame.ts), which hls.js then takes over. Where that cannot be, hls.js is loaded
// at once and starts from nothing, as before.
import type * as HlsEngineModule from "./hls-engine.ts";
import { playFirstFrame, type Handover } from "./first-frame.ts";
import { firstFramePlan } from "./first-frame-plan.ts";
import { SegmentPrefetch, startPosition } from "./prefetch.ts";
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import { TokenHolder, withToken } from "./tokens.ts";
import type { Engine, EngineHandlers, PageOptions } from "./engine-types.ts";

export type { Engine, EngineHandlers } from "./engine-types.ts";

/**
 * What the page's URL asks of the player: `?from=start` plays from the beginning whatever
 * the resume point ("Start over"); `?buffer=N` caps hls.js's forward buffer at N seconds
 * (diagnostics, and tests that need the player fetching as it plays); `?start=hls` lets
 * hls.js start from nothing, as before the first frame came without it (for comparing the two).
 */
export function urlOptions(): PageOptions {
  const params = new URLSearchParams(location.search);
  const buffer = Number(params.get("buffer"));
  return {
    startOver: params.get("from") === "start",
    bufferSec: Number.isFinite(buffer) && buffer >= 1 && buffer <= 120 ? buffer : null,
    hlsFirst: params.get("start") === "hls",
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
    firstFrameBy: () => "native",
    ready: () => true,
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

/**
 * The Engine the page holds while hls.js's bundle loads: what the viewer asks of it in the
 * meantime (a quality, subtitles) is kept and handed on; a bundle that fails to load is a
 * network failure, and the page's retry loads it again.
 */
class LoadingEngine implements Engine {
  readonly kind = "hls.js";
  private engine: Engine | null = null;
  private loading = false;
  private stopped = false;
  private quality: number | "auto" | null = null;
  private subtitles: { lang: string | null } | null = null;

  constructor(
    private readonly load: () => Promise<Engine>,
    private readonly onFatal: EngineHandlers["onFatal"],
    private readonly firstFramePrefetched: () => number,
    private readonly handedOver: () => boolean,
  ) {}

  firstFrameBy(): "first-frame" | "hls.js" {
    return this.handedOver() ? "first-frame" : "hls.js";
  }

  ready(): boolean {
    return this.engine !== null;
  }

  start(): void {
    if (this.engine || this.loading || this.stopped) return;
    this.loading = true;
    this.load().then(
      (engine) => {
        this.loading = false;
        if (this.stopped) return engine.stop();
        this.engine = engine;
        if (this.quality !== null) engine.setQuality(this.quality);
        if (this.subtitles) engine.setSubtitles(this.subtitles.lang);
      },
      () => {
        this.loading = false;
        if (!this.stopped) this.onFatal("network", "the player could not be loaded");
      },
    );
  }

  prefetched(): number {
    return this.engine ? this.engine.prefetched() : this.firstFramePrefetched();
  }
  liveLatencySec(): number | null {
    return this.engine?.liveLatencySec() ?? null;
  }
  setQuality(height: number | "auto"): void {
    this.quality = height;
    this.engine?.setQuality(height);
  }
  setSubtitles(lang: string | null): void {
    this.subtitles = { lang };
    this.engine?.setSubtitles(lang);
  }
  tokenRefreshed(hlsUrl: string): void {
    this.engine?.tokenRefreshed(hlsUrl);
  }
  retry(): void {
    if (this.engine) this.engine.retry();
    else this.start();
  }
  stop(): void {
    this.stopped = true;
    this.engine?.stop();
  }
}

/** What hls.js's own isSupported() checks: a MediaSource (or ManagedMediaSource) taking H.264 and AAC in MP4, with a SourceBuffer that appends and removes. */
function mediaSourceSupported(): boolean {
  const MS = (globalThis as { MediaSource?: typeof MediaSource; ManagedMediaSource?: typeof MediaSource }).MediaSource ?? (globalThis as { ManagedMediaSource?: typeof MediaSource }).ManagedMediaSource;
  const SB = (globalThis as { SourceBuffer?: typeof SourceBuffer }).SourceBuffer;
  return !!MS && typeof MS.isTypeSupported === "function" && MS.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"') && (!SB || (typeof SB.prototype.appendBuffer === "function" && typeof SB.prototype.remove === "function"));
}

/** Calls `then` once the first frame is on screen (or, paused with the frame ready, a second after the data was in). */
function afterFirstFrame(video: HTMLVideoElement, then: () => void): void {
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(go, 1000);
  if (typeof video.requestVideoFrameCallback === "function") video.requestVideoFrameCallback(go);
  else video.addEventListener("playing", go, { once: true });
}

/**
 * hls.js wherever MSE (or ManagedMediaSource) exists, its bundle from `hlsEngineUrl`;
 * native HLS otherwise; null if neither.
 */
export function createEngine(video: HTMLVideoElement, session: StartedPlayback, tokens: TokenHolder, handlers: EngineHandlers, hlsEngineUrl: string): Engine | null {
  if (!mediaSourceSupported()) return video.canPlayType("application/vnd.apple.mpegurl") ? nativeEngine(video, session, tokens, handlers) : null;
  const options = urlOptions();
  const positionSec = startPosition(session, options.startOver);
  // Only where hls.js will start: the variant the inline playlists are for.
  const prefetch = session.media.hlsStartVariant !== null ? new SegmentPrefetch(session.media.hlsPlaylists, positionSec, (url) => tokens.rewrite(url), { sid: session.id, cid: session.titleId }, session.media.hlsInitSegments) : null;
  let handover: Handover | null = null;
  const engine = new LoadingEngine(
    async () => {
      const mod = (await import(hlsEngineUrl)) as typeof HlsEngineModule;
      return mod.hlsJsEngine(video, session, tokens, handlers, { options, positionSec, prefetch, handover });
    },
    handlers.onFatal,
    () => prefetch?.used.length ?? 0,
    () => handover !== null,
  );
  const MS = (globalThis as { MediaSource?: typeof MediaSource }).MediaSource;
  const plan = prefetch && prefetch.size > 0 && MS && !options.hlsFirst ? firstFramePlan(session, positionSec, (type) => MS.isTypeSupported(type)) : null;
  if (!plan || !prefetch) {
    engine.start();
    return engine;
  }
  playFirstFrame(video, plan, positionSec, (url) => prefetch.peek(url)?.then((p) => p.data) ?? Promise.reject(new Error(`not prefetched: ${url}`))).then(
    (ready) => {
      handover = ready;
      afterFirstFrame(video, () => engine.start());
    },
    // hls.js starts from nothing (its attachMedia replaces the MediaSource this opened).
    () => engine.start(),
  );
  return engine;
}
