// The web player's Play flow, run in a page: POST /v1/playback/sessions (the session cookie
// plus X-CSRF-Token, or a bearer token), hls.js on `media.hlsUrl` from `resume.positionSec`,
// a heartbeat loop whose fresh token every later media request uses (hls.js `xhrSetup`
// re-points `/p/{token}/` at the newest one), and a stop on STREAM_ENDED. The same player
// can also play a plain URL (a static server) with the identical hls.js code path, for
// comparisons. Shared by e2e/playback-session.test.ts and tools/bench/playback.ts.
//
// The page-side code is typed against the few page APIs it uses rather than the DOM lib, so
// this file type-checks under the tools' tsconfig (no DOM) as well as under e2e's.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { Page } from "playwright-core";
import { projectRoot } from "../tools/project.ts";
import type { StartedPlayback } from "../lib/playback-session.ts";

const require = createRequire(import.meta.url);
export const hlsJsPath = require.resolve("hls.js/dist/hls.min.js");

export type StartedSession = StartedPlayback;

export type ApiErrorBody = { error: { code: string; message: string; details?: unknown } };

export type PlayerOptions = {
  /** hls.js buffer goals: small ones keep it fetching as it plays (so later requests use later tokens). */
  maxBufferLength?: number;
  maxMaxBufferLength?: number;
  /** How long `firstFrame()` waits. */
  firstFrameTimeoutMs?: number;
};

export type StartRequest = PlayerOptions &
  (
    | {
        kind: "session";
        body: { titleId: string; episodeId?: string; profileId?: string; endStreamId?: string; clientSessionId?: string };
        /** Auth headers for the API: `X-CSRF-Token` (the cookie rides along) or `Authorization`. */
        headers: Record<string, string>;
        /** Heartbeat period in ms (the API says 30 s; tests beat faster). null: no heartbeats. */
        heartbeatMs: number | null;
        /** Upper bound on heartbeats sent, so the loop always ends. */
        maxHeartbeats?: number;
        /** false: fetch master.m3u8 even when the Play response carries it. */
        inlineMaster?: boolean;
        /** false: fetch the media playlists even when the Play response carries them. */
        inlinePlaylists?: boolean;
        /** false: no prefetch of the first segments from the inline playlists (the web player's default). */
        prefetch?: boolean;
        /** false: create hls.js and attach it to the video only once the Play response is in, rather than while the POST is on its way. */
        attachDuringStart?: boolean;
      }
    | { kind: "url"; url: string }
  );

export type HeartbeatRecord = {
  /** Order among heartbeat answers and media requests (times can tie). */
  seq: number;
  /** Epoch ms the heartbeat was sent and answered. */
  sentAt: number;
  answeredAt: number;
  status: number;
  positionSec: number;
  code: string | null;
  reason: string | null;
  tokenExpiresAt: string | null;
  token: string | null;
};

export type MediaRequestRecord = { seq: number; at: number; token: string | null; url: string };

export type FlowState = {
  /** Epoch ms (performance.timeOrigin + performance.now()) the POST went out, or loadSource for a URL. */
  startedAt: number;
  startAnsweredAt: number | null;
  startStatus: number | null;
  startError: ApiErrorBody["error"] | null;
  session: StartedSession | null;
  firstFrameAt: number | null;
  /** Mean brightness (0–255) of the first presented frame, drawn to a canvas. */
  firstFrameBrightness: number | null;
  brightestFrameMean: number;
  frames: number;
  lastFrameAt: number | null;
  currentTime: number;
  paused: boolean;
  ended: boolean;
  heights: number[];
  /** The token media requests use now, and every one the stream was handed, oldest first. */
  token: string | null;
  tokens: string[];
  /** Every request hls.js made, with the URL as actually sent (after the token swap). */
  mediaRequests: MediaRequestRecord[];
  heartbeats: HeartbeatRecord[];
  fatal: string | null;
  /** Why the player stopped itself (e.g. STREAM_ENDED), or null while it may play. */
  stopped: string | null;
  /** The multivariant playlist came inline with the Play response (no request for it). */
  inlineMaster: boolean;
  /** How many media playlists came inline with it (answered from memory). */
  inlinePlaylists: number;
  /** hls.js's first steering load was answered with the Play response's manifest. */
  inlineSteering: boolean;
  /** How many segments hls.js took from the prefetch (init segments from the Play response among them). */
  prefetched: number;
};

/** The page-side API this file installs as `globalThis.__playFlow`. */
type PlayFlow = {
  start(request: StartRequest): Promise<FlowState>;
  firstFrame(timeoutMs: number): Promise<FlowState>;
  state(): FlowState;
  stop(reason: string): FlowState;
  release(): Promise<number>;
};

/** The Node side calls this (a binding) at the first frame, if the page has it. */
export const FIRST_FRAME_BINDING = "__marqueeFirstFrame";

// --- Page-side code: runs in Chromium; must not reference anything outside itself. ---

/** The few page objects the flow touches, structurally. */
type VideoLike = {
  muted: boolean;
  playsInline: boolean;
  width: number;
  height: number;
  currentTime: number;
  paused: boolean;
  ended: boolean;
  videoHeight: number;
  play(): Promise<void>;
  pause(): void;
  addEventListener(type: string, listener: () => void): void;
  requestVideoFrameCallback(callback: (now: number, metadata: { presentedFrames: number }) => void): number;
};
type CanvasLike = {
  width: number;
  height: number;
  getContext(kind: "2d", options: { willReadFrequently: boolean }): {
    drawImage(source: VideoLike, x: number, y: number, w: number, h: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
};
type HlsLike = {
  on(event: string, listener: (event: string, data: { fatal: boolean; details: string }) => void): void;
  /** Read when the multivariant playlist is parsed: set between attachMedia and loadSource's answer. */
  config: { startPosition: number; startLevel: number };
  loadSource(url: string): void;
  attachMedia(video: VideoLike): void;
  stopLoad(): void;
};
/** hls.js's loader interface, as far as the inline master playlist needs it. */
type LoaderContext = { type?: string; url: string };
type LoaderStats = { loading: { start: number; first: number; end: number }; loaded: number; total: number };
type LoaderCallbacks = { onSuccess(response: { url: string; data: string }, stats: LoaderStats, context: LoaderContext, networkDetails: unknown): void };
type LoaderInstance = { stats: LoaderStats; load(context: LoaderContext, config: unknown, callbacks: LoaderCallbacks): void };
type LoaderClass = new (config: unknown) => LoaderInstance;
type PageGlobals = {
  document: {
    createElement(tag: "video"): VideoLike;
    createElement(tag: "canvas"): CanvasLike;
    body: { append(node: VideoLike): void };
  };
  Hls: {
    new (config: Record<string, unknown>): HlsLike;
    Events: { ERROR: string };
    DefaultConfig: { loader: LoaderClass };
  };
  __playFlow?: PlayFlow;
  /** FIRST_FRAME_BINDING, spelled out: page code cannot see this module's constants. */
  __marqueeFirstFrame?: () => unknown;
};

function installInPage(): void {
  const g = globalThis as unknown as PageGlobals;
  const clock = () => performance.timeOrigin + performance.now();
  let seq = 0;
  // The primary's pathway or a replica's (`/p2/`, docs/media-origin.md).
  const tokenOf = (url: string): string | null => /^https?:\/\/[^/]+\/p[2-9]?\/([^/]+)\//.exec(url)?.[1] ?? null;

  const state: FlowState = {
    startedAt: 0,
    startAnsweredAt: null,
    startStatus: null,
    startError: null,
    session: null,
    firstFrameAt: null,
    firstFrameBrightness: null,
    brightestFrameMean: 0,
    frames: 0,
    lastFrameAt: null,
    currentTime: 0,
    paused: true,
    ended: false,
    heights: [],
    token: null,
    tokens: [],
    mediaRequests: [],
    heartbeats: [],
    fatal: null,
    stopped: null,
    inlineMaster: false,
    inlinePlaylists: 0,
    inlineSteering: false,
    prefetched: 0,
  };
  let video: VideoLike | null = null;
  let hls: HlsLike | null = null;
  let heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  let apiHeaders: Record<string, string> = {};
  let onFirstFrame: (() => void) | null = null;

  const snapshot = (): FlowState => {
    if (video) {
      state.currentTime = video.currentTime;
      state.paused = video.paused;
      state.ended = video.ended;
    }
    return JSON.parse(JSON.stringify(state)) as FlowState;
  };

  const stop = (reason: string) => {
    if (state.stopped === null) state.stopped = reason;
    clearTimeout(heartbeatTimer);
    hls?.stopLoad();
    video?.pause();
    return snapshot();
  };

  const canvas = g.document.createElement("canvas");
  canvas.width = 64;
  canvas.height = 36;
  const g2d = canvas.getContext("2d", { willReadFrequently: true })!;
  const brightness = (v: VideoLike) => {
    g2d.drawImage(v, 0, 0, 64, 36);
    const data = g2d.getImageData(0, 0, 64, 36).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
    return sum / (data.length / 4);
  };

  /**
   * What the Play response handed the player: the playlists to answer from memory (the
   * multivariant playlist and the media playlists hls.js starts on), each once, and the
   * prefetched first segments. Filled when the response comes; hls.js may exist before.
   */
  const handed = {
    masterUrl: "",
    playlists: new Map<string, string>(),
    segments: new Map<string, Promise<{ data: ArrayBuffer; start: number; first: number; end: number }>>(),
    /** The init segments' bytes (`hlsInitSegments`), by URL. */
    inits: new Map<string, ArrayBuffer>(),
    /** The steering manifest (`hlsSteering`), for hls.js's first steering load. */
    steering: null as unknown,
  };

  /** Unpadded base64url to bytes (lib/base64url.ts, restated; the api wrote it canonical). */
  const fromBase64Url = (text: string): ArrayBuffer => {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
  };

  /** A playlist loader that answers the Play response's playlists, and loads everything else as hls.js would. */
  const inlineLoader = (): LoaderClass => {
    const Base = g.Hls.DefaultConfig.loader;
    return class extends Base {
      override load(context: LoaderContext, config: unknown, callbacks: LoaderCallbacks) {
        const data = handed.playlists.get(context.url);
        if (data === undefined) return super.load(context, config, callbacks);
        handed.playlists.delete(context.url);
        if (context.url === handed.masterUrl) state.inlineMaster = true;
        else state.inlinePlaylists++;
        // Answered on the next task, as a network load would be: hls.js finishes setting up
        // (attachMedia) before the playlist arrives.
        setTimeout(() => {
          const now = performance.now();
          Object.assign(this.stats.loading, { start: now, first: now, end: now });
          this.stats.loaded = this.stats.total = data.length;
          callbacks.onSuccess({ url: context.url, data }, this.stats, context, null);
        }, 0);
      }
    };
  };

  /**
   * The web player's prefetch (web/scripts/player/prefetch.ts), restated here because page
   * code cannot import: the init and the segment at `positionSec` of each inline media
   * playlist, fetched at once, answered to hls.js's fragment loader from memory.
   */
  const prefetchSegments = (playlists: { url: string; text: string }[], positionSec: number) => {
    const pending = new Map<string, Promise<{ data: ArrayBuffer; start: number; first: number; end: number }>>();
    for (const p of playlists) {
      const lines = p.text.split("\n").map((l) => l.trim());
      const urls: string[] = [];
      const mapUri = /URI="([^"]+)"/.exec(lines.find((l) => l.startsWith("#EXT-X-MAP:")) ?? "")?.[1];
      if (mapUri) urls.push(new URL(mapUri, p.url).toString());
      let at = 0;
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i]!.startsWith("#EXTINF:")) continue;
        const duration = Number.parseFloat(lines[i]!.slice(8));
        const uri = lines.slice(i + 1).find((l) => l !== "" && !l.startsWith("#"))!;
        if (positionSec < at + duration) {
          urls.push(new URL(uri, p.url).toString());
          break;
        }
        at += duration;
      }
      for (const url of urls) {
        const start = performance.now();
        const inHand = handed.inits.get(url);
        if (inHand) {
          pending.set(url, Promise.resolve({ data: inHand, start, first: start, end: start }));
          continue;
        }
        const sent = state.token === null ? url : url.replace(/^(https?:\/\/[^/]+\/p\/)[^/]+\//, `$1${state.token}/`);
        state.mediaRequests.push({ seq: ++seq, at: clock(), token: tokenOf(sent), url: sent });
        pending.set(
          url,
          fetch(sent).then(async (res) => {
            const first = performance.now();
            const data = await res.arrayBuffer();
            if (!res.ok) throw new Error(String(res.status));
            return { data, start, first, end: performance.now() };
          }),
        );
      }
    }
    return pending;
  };

  const prefetchingLoader = (): LoaderClass => {
    const Base = g.Hls.DefaultConfig.loader;
    return class extends Base {
      override load(context: LoaderContext, config: unknown, callbacks: LoaderCallbacks) {
        const found = handed.segments.get(context.url);
        if (!found) return super.load(context, config, callbacks);
        handed.segments.delete(context.url);
        state.prefetched++;
        found.then(
          (got) => {
            Object.assign(this.stats.loading, { start: got.start, first: got.first, end: got.end });
            this.stats.loaded = this.stats.total = got.data.byteLength;
            callbacks.onSuccess({ url: context.url, data: got.data as unknown as string }, this.stats, context, null);
          },
          () => super.load(context, config, callbacks),
        );
      }
    };
  };

  /**
   * hls.js's loader for the rest (the steering manifest among it): the first steering load
   * answered with the Play response's manifest (web/scripts/player/hls-engine.ts's steeringLoader).
   */
  const steeringLoader = (): LoaderClass => {
    const Base = g.Hls.DefaultConfig.loader;
    return class extends Base {
      override load(context: LoaderContext, config: unknown, callbacks: LoaderCallbacks) {
        const data = handed.steering;
        if (context.type !== "steering-manifest" || data === null) return super.load(context, config, callbacks);
        handed.steering = null;
        state.inlineSteering = true;
        setTimeout(() => {
          const now = performance.now();
          Object.assign(this.stats.loading, { start: now, first: now, end: now });
          callbacks.onSuccess({ url: context.url, data: data as string }, this.stats, context, null);
        }, 0);
      }
    };
  };

  /** The video element and hls.js attached to it, before anything is loaded. */
  const attach = (o: PlayerOptions): HlsLike => {
    const v = g.document.createElement("video");
    video = v;
    v.muted = true;
    v.playsInline = true;
    v.width = 640;
    v.height = 360;
    g.document.body.append(v);
    const onFrame = () => {
      state.frames++;
      state.lastFrameAt = clock();
      if (!state.heights.includes(v.videoHeight)) state.heights.push(v.videoHeight);
      if (state.firstFrameAt === null) {
        state.firstFrameAt = state.lastFrameAt;
        g.__marqueeFirstFrame?.();
        state.firstFrameBrightness = brightness(v);
        state.brightestFrameMean = state.firstFrameBrightness;
        onFirstFrame?.();
      } else if (state.frames % 24 === 0) {
        state.brightestFrameMean = Math.max(state.brightestFrameMean, brightness(v));
      }
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    v.addEventListener("ended", () => (state.ended = true));
    const h = new g.Hls({
      // The loaders answer from what the Play response handed over, and load anything else.
      pLoader: inlineLoader(),
      fLoader: prefetchingLoader(),
      loader: steeringLoader(),
      ...(o.maxBufferLength !== undefined ? { maxBufferLength: o.maxBufferLength } : {}),
      ...(o.maxMaxBufferLength !== undefined ? { maxMaxBufferLength: o.maxMaxBufferLength } : {}),
      // Every request goes to the newest token the heartbeats handed out: the URLs hls.js
      // resolved from the first master playlist still carry the first one.
      xhrSetup: (xhr: { open(method: string, url: string, async: boolean): void }, requested: string) => {
        const url = state.token === null ? requested : requested.replace(/^(https?:\/\/[^/]+\/p\/)[^/]+\//, `$1${state.token}/`);
        state.mediaRequests.push({ seq: ++seq, at: clock(), token: tokenOf(url), url });
        xhr.open("GET", url, true);
      },
    });
    hls = h;
    h.on(g.Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) state.fatal = data.details;
    });
    h.attachMedia(v);
    v.play().catch((e: Error) => (state.fatal ??= `play(): ${e.message}`));
    return h;
  };

  /** Loads `url` into the attached hls.js, from `startPosition`, with what the Play response handed over. */
  const load = (
    h: HlsLike,
    url: string,
    startPosition: number,
    inline: { url: string; text: string }[] = [],
    startLevel: number | null = null,
    prefetch = false,
    given: { inits: { url: string; data: string }[]; steering: unknown } = { inits: [], steering: null },
  ) => {
    handed.masterUrl = url;
    for (const p of inline) handed.playlists.set(p.url, p.text);
    for (const i of given.inits) handed.inits.set(i.url, fromBase64Url(i.data));
    handed.steering = given.steering;
    if (prefetch && startLevel !== null) handed.segments = prefetchSegments(inline.slice(1), Math.max(0, startPosition));
    // hls.js reads both when the multivariant playlist is parsed, after loadSource.
    h.config.startPosition = startPosition;
    if (startLevel !== null) h.config.startLevel = startLevel;
    h.loadSource(url);
  };

  const heartbeatLoop = (session: StartedSession, everyMs: number, maxBeats: number) => {
    const beat = async () => {
      if (state.stopped !== null || state.heartbeats.length >= maxBeats) return;
      const positionSec = video?.currentTime ?? 0;
      const sentAt = clock();
      let status = 0;
      type Answer = { media?: { hlsUrl: string; tokenExpiresAt: string }; error?: { code: string; details?: { reason?: string } } };
      let body: Answer | null = null;
      try {
        const res = await fetch(session.heartbeat.url, {
          method: "POST",
          headers: { ...apiHeaders, "content-type": "application/json" },
          body: JSON.stringify({ positionSec }),
        });
        status = res.status;
        body = (await res.json().catch(() => null)) as Answer | null;
      } catch {
        // A lost heartbeat: the lease outlives a few; try again next period.
      }
      const token = status === 200 && body?.media ? tokenOf(body.media.hlsUrl) : null;
      state.heartbeats.push({
        seq: ++seq,
        sentAt,
        answeredAt: clock(),
        status,
        positionSec,
        code: body?.error?.code ?? null,
        reason: body?.error?.details?.reason ?? null,
        tokenExpiresAt: body?.media?.tokenExpiresAt ?? null,
        token,
      });
      if (token !== null) {
        state.token = token;
        state.tokens.push(token);
      }
      if (status === 409 && body?.error?.code === "STREAM_ENDED") {
        stop("STREAM_ENDED");
        return;
      }
      if (state.stopped === null) heartbeatTimer = setTimeout(beat, everyMs);
    };
    heartbeatTimer = setTimeout(beat, everyMs);
  };

  const flow: PlayFlow = {
    async start(request) {
      state.startedAt = clock();
      if (request.kind === "url") {
        // From 0, as a session that answered resume.positionSec 0: the same hls.js start.
        load(attach(request), request.url, 0);
        return snapshot();
      }
      apiHeaders = request.headers;
      const answer = fetch("/v1/playback/sessions", {
        method: "POST",
        headers: { ...request.headers, "content-type": "application/json" },
        body: JSON.stringify(request.body),
      });
      // With the POST on its way, hls.js starts up and opens its MediaSource meanwhile.
      const early = request.attachDuringStart === false ? null : attach(request);
      const res = await answer;
      state.startAnsweredAt = clock();
      state.startStatus = res.status;
      const body = (await res.json()) as StartedSession | ApiErrorBody;
      if (res.status !== 201 && res.status !== 200) {
        state.startError = "error" in body ? body.error : { code: "UNEXPECTED", message: JSON.stringify(body) };
        return snapshot();
      }
      const session = body as StartedSession;
      state.session = session;
      state.token = tokenOf(session.media.hlsUrl);
      if (state.token !== null) state.tokens.push(state.token);
      const inline =
        request.inlineMaster === false || session.media.hlsMaster === null
          ? []
          : [{ url: session.media.hlsUrl, text: session.media.hlsMaster }, ...(request.inlinePlaylists === false ? [] : (session.media.hlsPlaylists ?? []))];
      // The init segments and the steering manifest with the playlists, as the web player takes them.
      const given = inline.length > 1 ? { inits: session.media.hlsInitSegments ?? [], steering: session.media.hlsSteering ?? null } : undefined;
      load(early ?? attach(request), session.media.hlsUrl, session.resume.positionSec, inline, inline.length > 1 ? (session.media.hlsStartVariant ?? null) : null, request.prefetch !== false, given);
      if (request.heartbeatMs !== null) heartbeatLoop(session, request.heartbeatMs, request.maxHeartbeats ?? 100);
      return snapshot();
    },
    firstFrame(timeoutMs) {
      if (state.firstFrameAt !== null || video === null) return Promise.resolve(snapshot());
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(snapshot()), timeoutMs);
        onFirstFrame = () => {
          clearTimeout(timer);
          onFirstFrame = null;
          resolve(snapshot());
        };
      });
    },
    state: snapshot,
    stop,
    async release() {
      stop("released");
      if (!state.session) return 0;
      const res = await fetch(`/v1/playback/sessions/${state.session.id}`, { method: "DELETE", headers: apiHeaders });
      return res.status;
    },
  };
  g.__playFlow = flow;
}

// --- Node side ---

/** Loads hls.js into the page (already on the right origin) and installs the flow. */
export async function installPlayFlow(page: Page): Promise<void> {
  await page.addScriptTag({ path: hlsJsPath });
  await page.evaluate(installInPage);
}

/** Presses Play (or loads the URL); answers once the POST is answered and the player started. */
export function startFlow(page: Page, request: StartRequest): Promise<FlowState> {
  return page.evaluate((r) => (globalThis as unknown as PageGlobals).__playFlow!.start(r), request);
}

export function waitForFirstFrame(page: Page, timeoutMs = 15_000): Promise<FlowState> {
  return page.evaluate((t) => (globalThis as unknown as PageGlobals).__playFlow!.firstFrame(t), timeoutMs);
}

export function flowState(page: Page): Promise<FlowState> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).__playFlow!.state());
}

export function stopFlow(page: Page, reason: string): Promise<FlowState> {
  return page.evaluate((r) => (globalThis as unknown as PageGlobals).__playFlow!.stop(r), reason);
}

/** Stops the player and DELETEs its stream; answers the DELETE's status (0: no stream). */
export function releaseFlow(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).__playFlow!.release());
}

/** Polls the page's state (every 100 ms, at most `timeoutMs`) until `done` holds; answers the last state either way. */
export async function waitForState(page: Page, done: (s: FlowState) => boolean, timeoutMs: number): Promise<FlowState> {
  const deadline = Date.now() + timeoutMs;
  let s = await flowState(page);
  while (!done(s) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    s = await flowState(page);
  }
  return s;
}

/** What the browser's resource timing says of one request: epoch ms, as FlowState's times. */
/** One request's timing; `server`: its Server-Timing phases (name → ms), where it sent them. */
/** Epoch ms: the fetch began, its request went out (after any queueing and connection), its first byte came, its last. */
export type ResourceTiming = { url: string; startAt: number; requestAt: number; responseAt: number; endAt: number; server: Record<string, number> };

export function resourceTimings(page: Page): Promise<ResourceTiming[]> {
  return page.evaluate(() => {
    const perf = performance as unknown as {
      timeOrigin: number;
      getEntriesByType(type: "resource"): { name: string; startTime: number; requestStart: number; responseStart: number; responseEnd: number; serverTiming?: { name: string; duration: number }[] }[];
    };
    return perf.getEntriesByType("resource").map((e) => ({
      url: e.name,
      startAt: perf.timeOrigin + e.startTime,
      requestAt: perf.timeOrigin + e.requestStart,
      responseAt: perf.timeOrigin + e.responseStart,
      endAt: perf.timeOrigin + e.responseEnd,
      server: Object.fromEntries((e.serverTiming ?? []).map((t) => [t.name, t.duration])),
    }));
  });
}

type DemoTitle = { id: string; kind: string; assetId?: string; availableFrom?: string; availableUntil?: string };

/** The first movie of the demo catalog (demo/catalog.json) on the demo video "demo-aurora" that is available now. */
export async function demoMovieId(): Promise<string> {
  const demo = JSON.parse(await readFile(path.join(projectRoot, "demo/catalog.json"), "utf8")) as { titles: DemoTitle[] };
  const now = new Date().toISOString();
  const title = demo.titles.find(
    (t) => t.kind === "movie" && t.assetId === "demo-aurora" && (!t.availableFrom || t.availableFrom <= now) && (!t.availableUntil || t.availableUntil > now),
  );
  if (!title) throw new Error("demo/catalog.json has no available movie on demo-aurora");
  return title.id;
}
