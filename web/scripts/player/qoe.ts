// Quality of experience (docs/qoe.md): what this view of a title felt like, measured from
// the page's own clocks — performance.now() and the navigation's timeOrigin, the first
// frame from requestVideoFrameCallback (the `playing` event where it is missing), stalls
// from `waiting` after the first frame (not while seeking), renditions from the engine,
// dropped frames from getVideoPlaybackQuality(). Reports are deltas since the previous
// one: every minute while playing (a normal POST), and on visibilitychange/pagehide with
// navigator.sendBeacon, which outlives the page (the CSRF token rides in the body: a
// beacon cannot set headers).
import { MAX_QOE_REPORTS_PER_REQUEST } from "../../../lib/qoe-limits.ts";
import type { QoeReport } from "../../../lib/qoe.ts";
import type { Api } from "./api.ts";
import { newId } from "./format.ts";

/** A report at most this often while playing, besides the one on leave. */
export const REPORT_EVERY_MS = 60_000;
/** Reports kept while they cannot be sent; the oldest go first beyond this. */
const MAX_QUEUED = 20;

export type QoeContext = { playbackSessionId: string; profileId: string; titleId: string; episodeId: string | null; planHeight: number };

export class QoeReporter {
  private seq = 0;
  private pressedAt: number;
  private firstFrameAt: number | null = null;
  private firstFrameReported = false;
  private exitReported = false;
  private playingSince: number | null = null;
  private stalledSince: number | null = null;
  private height: number | null = null;
  private kbps = 0;
  private droppedSeen = 0;
  private delta = QoeReporter.emptyDelta();
  private queue: QoeReport[] = [];
  private lastReportAt = performance.now();
  private sending = false;
  /** Reports made, for the browser tests (`window.__marqueePlayer`). */
  readonly made: QoeReport[] = [];

  /**
   * `pressedAt`: performance.now() when this view's Play began — the start of its POST
   * /v1/playback/sessions (the watch page starts it as it loads). The page-load figure is
   * measured from the navigation's start (0 on the page's clock), which includes the
   * click on the title page, the HTML and the player's script.
   */
  constructor(
    private readonly api: Api,
    private readonly csrfToken: string,
    private readonly video: HTMLVideoElement,
    private readonly context: QoeContext,
    pressedAt: number,
  ) {
    this.pressedAt = pressedAt;
    this.watchFirstFrame();
    video.addEventListener("playing", () => this.onPlaying());
    video.addEventListener("waiting", () => this.onWaiting());
    video.addEventListener("pause", () => this.account());
    video.addEventListener("seeking", () => this.account());
  }

  private static emptyDelta() {
    return { playingMs: 0, stalls: 0, stallMs: 0, switches: 0, heightMs: {} as Record<string, number>, kbpsMs: 0, fatalErrors: 0, recoveredErrors: 0 };
  }

  private watchFirstFrame(): void {
    const seen = () => {
      if (this.firstFrameAt === null) this.firstFrameAt = performance.now();
    };
    const v = this.video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
    if (typeof v.requestVideoFrameCallback === "function") v.requestVideoFrameCallback(seen);
    else this.video.addEventListener("playing", seen, { once: true });
  }

  /** Autoplay was refused and the viewer pressed play: the delay counts from that press, not from the page. */
  pressed(): void {
    if (this.firstFrameAt === null) this.pressedAt = performance.now();
  }

  get sawFirstFrame(): boolean {
    return this.firstFrameAt !== null;
  }

  /** Adds the time played since the last account to the current rendition. */
  private account(now = performance.now()): void {
    if (this.playingSince !== null) {
      const ms = Math.max(0, now - this.playingSince);
      this.delta.playingMs += ms;
      if (this.height !== null) this.delta.heightMs[String(this.height)] = (this.delta.heightMs[String(this.height)] ?? 0) + ms;
      this.delta.kbpsMs += ms * this.kbps;
    }
    this.playingSince = this.video.paused || this.video.seeking || this.stalledSince !== null ? null : now;
  }

  private onPlaying(): void {
    const now = performance.now();
    if (this.stalledSince !== null) {
      this.delta.stallMs += now - this.stalledSince;
      this.stalledSince = null;
    }
    this.account(now);
    this.playingSince = now;
  }

  private onWaiting(): void {
    // Before the first frame it is start-up, not a stall; while seeking it is the seek.
    if (this.firstFrameAt === null || this.video.seeking || this.stalledSince !== null) return;
    const now = performance.now();
    this.account(now);
    this.playingSince = null;
    this.stalledSince = now;
    this.delta.stalls++;
  }

  /** The engine now plays a rendition of this height and bitrate (bits/s; 0 when unknown). */
  rendition(height: number, bitrate: number): void {
    this.account();
    if (this.height !== null && this.height !== height) this.delta.switches++;
    this.height = height;
    this.kbps = Math.round(bitrate / 1000);
  }

  error(fatal: boolean): void {
    if (fatal) this.delta.fatalErrors++;
    else this.delta.recoveredErrors++;
  }

  /** The report of what happened since the last one (null when nothing did). */
  private take(leaving: boolean): QoeReport | null {
    const now = performance.now();
    this.account(now);
    if (this.stalledSince !== null) {
      this.delta.stallMs += now - this.stalledSince;
      this.stalledSince = leaving ? null : now;
    }
    const quality = this.video.getVideoPlaybackQuality?.();
    const dropped = quality ? quality.droppedVideoFrames - this.droppedSeen : 0;
    if (quality) this.droppedSeen = quality.droppedVideoFrames;
    const firstFrame = this.firstFrameAt !== null && !this.firstFrameReported;
    const exit = leaving && this.firstFrameAt === null && !this.exitReported ? (this.delta.fatalErrors > 0 ? "failed" : "left") : undefined;
    const d = this.delta;
    if (!firstFrame && !exit && d.playingMs < 1 && d.stalls === 0 && d.fatalErrors === 0 && d.recoveredErrors === 0 && dropped === 0) return null;
    const clamp = (ms: number) => Math.min(3_600_000, Math.max(0, Math.round(ms)));
    const report: QoeReport = {
      id: newId(),
      playbackSessionId: this.context.playbackSessionId,
      profileId: this.context.profileId,
      titleId: this.context.titleId,
      ...(this.context.episodeId ? { episodeId: this.context.episodeId } : {}),
      seq: this.seq++,
      clientTime: Date.now(),
      planHeight: this.context.planHeight,
      ...(firstFrame
        ? {
            firstFrame: {
              playDelayMs: clamp(this.firstFrameAt! - this.pressedAt),
              pageToFirstFrameMs: clamp(this.firstFrameAt!),
            },
          }
        : {}),
      ...(exit ? { exit } : {}),
      playingMs: clamp(d.playingMs),
      stalls: Math.min(10_000, d.stalls),
      stallMs: clamp(d.stallMs),
      switches: Math.min(10_000, d.switches),
      heightMs: Object.fromEntries(Object.entries(d.heightMs).slice(0, 8).map(([h, ms]) => [h, clamp(ms)])),
      kbpsMs: Math.min(100_000 * 3_600_000, Math.max(0, Math.round(d.kbpsMs))),
      droppedFrames: Math.min(1_000_000, Math.max(0, dropped)),
      fatalErrors: Math.min(100, d.fatalErrors),
      recoveredErrors: Math.min(10_000, d.recoveredErrors),
    };
    if (firstFrame) this.firstFrameReported = true;
    if (exit) this.exitReported = true;
    this.delta = QoeReporter.emptyDelta();
    this.made.push(report);
    return report;
  }

  /** Called as the player ticks (its heartbeats): a report once a minute, sent with a normal POST. */
  tick(): void {
    const now = performance.now();
    const due = now - this.lastReportAt >= REPORT_EVERY_MS || (this.firstFrameAt !== null && !this.firstFrameReported);
    if (!due) return;
    this.lastReportAt = now;
    const report = this.take(false);
    if (report) this.queue.push(report);
    if (this.queue.length > MAX_QUEUED) this.queue.splice(0, this.queue.length - MAX_QUEUED);
    void this.send();
  }

  private async send(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    try {
      const batch = this.queue.slice(0, MAX_QOE_REPORTS_PER_REQUEST);
      const { status } = await this.api.call("POST", "/v1/qoe", { reports: batch });
      // 503 and 429 keep the batch for the next tick; anything else is final for it.
      if (status !== 503 && status !== 429) this.queue = this.queue.filter((r) => !batch.includes(r));
    } catch {
      // offline: the next tick tries again
    } finally {
      this.sending = false;
    }
  }

  /** The page is hidden or going: everything not yet sent, by beacon. */
  beacon(leaving: boolean): void {
    const report = this.take(leaving);
    if (report) this.queue.push(report);
    if (this.queue.length === 0) return;
    const reports = this.queue.splice(0, MAX_QOE_REPORTS_PER_REQUEST);
    this.queue = [];
    const body = new Blob([JSON.stringify({ reports, csrfToken: this.csrfToken })], { type: "application/json" });
    if (!navigator.sendBeacon?.("/v1/qoe", body)) this.api.send("POST", "/v1/qoe", { reports });
  }
}
