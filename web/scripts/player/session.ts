// The stream's lifetime on the server: one POST /v1/playback/sessions to start (retried
// with the same clientSessionId, so a lost answer never costs a second screen), a
// heartbeat loop that keeps the lease and hands out fresh media tokens, and a DELETE on
// leave. Refusals become the player's problems (error-screens.ts shows them).
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import { Api, isErrorBody, NetworkError } from "./api.ts";

/** One of the account's streams, as TOO_MANY_STREAMS lists them. */
export type ActiveStream = {
  id: string;
  deviceName: string;
  profileName: string;
  titleId: string;
  episodeId: string | null;
  titleName: string;
  since: string;
  positionSec: number;
  thisDevice: boolean;
};

export type Problem =
  | { code: "TOO_MANY_STREAMS"; streams: ActiveStream[]; limit: number | null }
  | { code: "STREAM_ENDED"; reason: string }
  | { code: "NO_PLAN"; status: string | null }
  | { code: "NETWORK" }
  | { code: "PROFILE_REQUIRED"; reason: string }
  | { code: "SIGNED_OUT" }
  | { code: "NOT_AVAILABLE"; reason: string; message: string }
  | { code: "UNAVAILABLE"; message: string }
  | { code: "PLAYBACK"; message: string }
  | { code: "UNSUPPORTED" };

export type StartRequest = { titleId: string; episodeId?: string; profileId?: string; endStreamId?: string; clientSessionId: string };

export type StartResult = { ok: true; session: StartedPlayback } | { ok: false; problem: Problem };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A refusal of POST /v1/playback/sessions (or of a heartbeat) as a problem to show. */
export function problemOf(status: number, body: unknown): Problem {
  const error = isErrorBody(body) ? body.error : null;
  const details = (error?.details ?? {}) as Record<string, unknown>;
  const reason = typeof details.reason === "string" ? details.reason : "";
  if (status === 401) return { code: "SIGNED_OUT" };
  if (error?.code === "TOO_MANY_STREAMS") {
    return { code: "TOO_MANY_STREAMS", streams: Array.isArray(details.streams) ? (details.streams as ActiveStream[]) : [], limit: typeof details.limit === "number" ? details.limit : null };
  }
  if (error?.code === "STREAM_ENDED") return { code: "STREAM_ENDED", reason: reason || "unknown" };
  if (reason === "no_subscription") return { code: "NO_PLAN", status: typeof details.status === "string" ? details.status : null };
  if (reason === "profile_required" || reason === "profile_locked" || reason === "wrong_profile") return { code: "PROFILE_REQUIRED", reason };
  if (status === 403 || status === 404) return { code: "NOT_AVAILABLE", reason, message: error?.message ?? "This title cannot be played." };
  return { code: "UNAVAILABLE", message: error?.message ?? `The service answered ${status}.` };
}

/**
 * Starts the stream. Network failures and 503s are retried a few times (same
 * clientSessionId: idempotent); a stream of this very device still holding the only screen
 * (the page was just reloaded, its DELETE still in flight) gets one more try after a moment.
 */
export async function startStream(api: Api, request: StartRequest): Promise<StartResult> {
  let thisDeviceRetried = false;
  for (let attempt = 0; ; attempt++) {
    let answer;
    try {
      answer = await api.call<StartedPlayback>("POST", "/v1/playback/sessions", request);
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      if (attempt < 2) {
        await sleep(500 * 2 ** attempt);
        continue;
      }
      return { ok: false, problem: { code: "NETWORK" } };
    }
    if ((answer.status === 201 || answer.status === 200) && answer.body && !isErrorBody(answer.body)) return { ok: true, session: answer.body };
    if (answer.status === 503 && attempt < 3) {
      await sleep(1000 * Math.min(answer.retryAfterSec ?? 1, 5));
      continue;
    }
    const problem = problemOf(answer.status, answer.body);
    if (problem.code === "TOO_MANY_STREAMS" && !thisDeviceRetried && problem.streams.some((s) => s.thisDevice)) {
      thisDeviceRetried = true;
      await sleep(1200);
      continue;
    }
    return { ok: false, problem };
  }
}

type HeartbeatAnswer = {
  id: string;
  media: { hlsUrl: string; dashUrl: string; tokenExpiresAt: string; maxHeight: number };
  heartbeat: { url: string; intervalSec: number };
};

export type HeartbeatHandlers = {
  position(): number;
  /** Each beat, just before it is sent (the watch events record one and flush). */
  onBeat(): void;
  onFreshMedia(hlsUrl: string, tokenExpiresAt: string): void;
  /** The stream is over (STREAM_ENDED, signed out): the player must stop. */
  onStopped(problem: Problem): void;
};

/** Keeps the lease: a beat every `intervalSec` (a missed beat is tried again sooner; the lease outlives three). */
export class Heartbeats {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private inFlight: Promise<void> | null = null;
  private lastBeatAt = Date.now();

  constructor(
    private readonly api: Api,
    private url: string,
    private intervalMs: number,
    private readonly handlers: HeartbeatHandlers,
    /** A fixed period (the page's `?heartbeat=`) that the server's intervalSec does not override. */
    private readonly fixedPeriod: boolean,
  ) {}

  start(): void {
    this.schedule(this.intervalMs);
    // Background tabs throttle timers: catch up when the page is seen again.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && Date.now() - this.lastBeatAt >= this.intervalMs) void this.beatNow();
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Beats at once (e.g. before retrying media after a network failure, for a fresh token). */
  beatNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inFlight) return this.inFlight;
    clearTimeout(this.timer);
    this.inFlight = this.beat().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.beatNow(), ms);
  }

  private async beat(): Promise<void> {
    this.lastBeatAt = Date.now();
    this.handlers.onBeat();
    let answer;
    try {
      answer = await this.api.call<HeartbeatAnswer>("POST", this.url, { positionSec: Math.max(0, this.handlers.position()) });
    } catch {
      // Lost: the lease outlives a few missed beats. Try again soon.
      this.schedule(Math.min(this.intervalMs, 10_000));
      return;
    }
    if (this.stopped) return;
    if (answer.status === 200 && answer.body && !isErrorBody(answer.body)) {
      const beat = answer.body;
      this.handlers.onFreshMedia(beat.media.hlsUrl, beat.media.tokenExpiresAt);
      this.url = beat.heartbeat.url || this.url;
      if (!this.fixedPeriod && beat.heartbeat.intervalSec > 0) this.intervalMs = beat.heartbeat.intervalSec * 1000;
      this.schedule(this.intervalMs);
      return;
    }
    const problem = problemOf(answer.status, answer.body);
    if (problem.code === "STREAM_ENDED" || problem.code === "SIGNED_OUT" || answer.status === 404 || answer.status === 403) {
      this.stop();
      this.handlers.onStopped(problem.code === "STREAM_ENDED" || problem.code === "SIGNED_OUT" ? problem : { code: "STREAM_ENDED", reason: "unknown" });
      return;
    }
    this.schedule(Math.min(this.intervalMs, 10_000));
  }
}

/** Frees the screen at once; keepalive, so it completes after the page has gone. */
export function releaseStream(api: Api, playbackSessionId: string): void {
  api.send("DELETE", `/v1/playback/sessions/${encodeURIComponent(playbackSessionId)}`);
}

/** The same, awaited (leaving for the next episode: its start must find the screen free). */
export async function releaseStreamAndWait(api: Api, playbackSessionId: string, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    await api.call("DELETE", `/v1/playback/sessions/${encodeURIComponent(playbackSessionId)}`, undefined, { keepalive: true, signal: controller.signal });
  } catch {
    // Timed out or offline: the lease lapses on its own.
  } finally {
    clearTimeout(timer);
  }
}
