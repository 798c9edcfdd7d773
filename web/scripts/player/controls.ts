// The player's own controls: play/pause, ±10 s, mute, the seek bar and clock, quality and
// subtitle choice, full screen, and hiding the controls while the video plays untouched.
import type { PlayerElements } from "./dom.ts";
import { el } from "./dom.ts";
import { formatClock } from "./format.ts";
import { wireKeyboard } from "./keyboard.ts";

export type ControlHooks = {
  /** A seek the viewer asked for, once it has landed. */
  onUserSeek(fromSec: number, toSec: number): void;
  /** A seek the viewer asked for, as it starts. */
  onUserSeekStart?(toSec: number): void;
  /** The S key: Skip intro / Skip recap. */
  onSkip?(): void;
  onQuality(choice: number | "auto"): void;
  onSubtitles(lang: string | null): void;
  /** The viewer pressed play (used to unmute after a muted autoplay, and to clear errors). */
  onPlayRequest?(): void;
};

const IDLE_MS = 3000;

/**
 * In a watch party, the party decides play, pause and seek (web/scripts/party.ts): the
 * controls ask first. "alone": act on the video as usual (not in the party's hands, or no
 * longer); "sent": the party will move everyone, this player included; "refused": nothing
 * happens (the party said why), and the controls show the video as it is.
 */
export type GateAnswer = "alone" | "sent" | "refused";
export type ControlGate = { play(pos: number): GateAnswer; pause(pos: number): GateAnswer; seek(to: number): GateAnswer };

export class Controls {
  private dragging = false;
  private pendingSeekFrom: number | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  durationSec = 0;
  gate: ControlGate | null = null;

  constructor(
    private readonly els: PlayerElements,
    private readonly hooks: ControlHooks,
  ) {
    const { video, shell } = els;
    els.playPause.addEventListener("click", () => this.togglePlay());
    video.addEventListener("click", () => this.togglePlay());
    video.addEventListener("dblclick", () => this.toggleFullscreen());
    els.back10.addEventListener("click", () => this.seekBy(-10));
    els.forward10.addEventListener("click", () => this.seekBy(10));
    els.mute.addEventListener("click", () => this.toggleMute());
    els.fullscreen.addEventListener("click", () => this.toggleFullscreen());

    els.seek.addEventListener("input", () => {
      this.dragging = true;
      this.paintClock(Number(els.seek.value));
    });
    els.seek.addEventListener("change", () => {
      this.dragging = false;
      this.seekTo(Number(els.seek.value));
    });

    // After a choice the select lets go of the focus, so space and the arrows control playback again.
    els.quality.addEventListener("change", () => {
      const value = els.quality.value;
      this.hooks.onQuality(value === "auto" ? "auto" : Number(value));
      els.quality.blur();
    });
    els.subtitles.addEventListener("change", () => {
      const value = els.subtitles.value;
      this.hooks.onSubtitles(value === "off" ? null : value);
      els.subtitles.blur();
    });

    const sync = () => {
      shell.dataset.paused = String(video.paused);
      els.playPause.setAttribute("aria-label", video.paused ? "Play" : "Pause");
      this.activity();
    };
    video.addEventListener("play", sync);
    video.addEventListener("pause", sync);
    video.addEventListener("volumechange", () => {
      els.mute.setAttribute("aria-pressed", String(video.muted));
      els.mute.setAttribute("aria-label", video.muted ? "Unmute" : "Mute");
      shell.dataset.muted = String(video.muted);
    });
    video.addEventListener("timeupdate", () => this.paintTime());
    video.addEventListener("durationchange", () => this.paintTime());
    video.addEventListener("seeked", () => {
      if (this.pendingSeekFrom === null) return;
      const from = this.pendingSeekFrom;
      this.pendingSeekFrom = null;
      this.hooks.onUserSeek(from, video.currentTime);
    });
    document.addEventListener("fullscreenchange", () => (shell.dataset.fullscreen = String(document.fullscreenElement === shell)));

    shell.addEventListener("pointermove", () => this.activity());
    shell.addEventListener("pointerdown", () => this.activity());
    shell.addEventListener("focusin", () => this.activity());

    wireKeyboard({
      togglePlay: () => this.togglePlay(),
      seekBy: (s) => this.seekBy(s),
      toggleFullscreen: () => this.toggleFullscreen(),
      toggleMute: () => this.toggleMute(),
      skip: () => this.hooks.onSkip?.(),
      activity: () => this.activity(),
    });
    sync();
  }

  duration(): number {
    if (this.live) return this.liveEdge();
    const d = this.els.video.duration;
    return Number.isFinite(d) && d > 0 ? d : this.durationSec;
  }

  /** On a live event the bar spans the DVR window up to the live edge, and the clock says how far behind it. */
  live = false;

  private liveEdge(): number {
    const ranges = this.els.video.seekable;
    return Math.max(this.els.video.currentTime, ranges.length > 0 ? ranges.end(ranges.length - 1) : 0);
  }

  togglePlay(): void {
    const { video } = this.els;
    if (video.paused || video.ended) {
      this.hooks.onPlayRequest?.();
      if ((this.gate?.play(video.currentTime) ?? "alone") !== "alone") return;
      void video.play().catch(() => undefined);
    } else {
      if ((this.gate?.pause(video.currentTime) ?? "alone") !== "alone") return;
      video.pause();
    }
  }

  seekBy(seconds: number): void {
    this.seekTo(this.els.video.currentTime + seconds);
  }

  seekTo(target: number): void {
    const { video } = this.els;
    const duration = this.duration();
    if (!(duration > 0) || video.readyState === HTMLMediaElement.HAVE_NOTHING) return;
    const to = Math.max(0, Math.min(target, duration - 0.25));
    const answer = this.gate?.seek(to) ?? "alone";
    if (answer !== "alone") {
      // Sent: the bar shows where everyone is going; refused: it goes back to where the video is.
      this.paintClock(answer === "sent" ? to : video.currentTime);
      return;
    }
    this.pendingSeekFrom ??= video.currentTime;
    this.hooks.onUserSeekStart?.(to);
    video.currentTime = to;
    this.paintClock(to);
  }

  toggleMute(): void {
    this.els.video.muted = !this.els.video.muted;
  }

  toggleFullscreen(): void {
    const { shell, video } = this.els;
    if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
    } else if (shell.requestFullscreen) {
      void shell.requestFullscreen().catch(() => undefined);
    } else {
      // iOS Safari: only the video itself goes full screen.
      (video as HTMLVideoElement & { webkitEnterFullscreen?: () => void }).webkitEnterFullscreen?.();
    }
  }

  /** The heights the plan allows (tallest first); empty: the browser chooses (native HLS). */
  setQualities(heights: number[]): void {
    const { quality } = this.els;
    const chosen = quality.value;
    quality.replaceChildren(el("option", { text: "Auto", attrs: { value: "auto" } }), ...heights.map((h) => el("option", { text: `${h}p`, attrs: { value: String(h) } })));
    quality.value = heights.some((h) => String(h) === chosen) ? chosen : "auto";
    quality.disabled = heights.length === 0;
  }

  setRendition(height: number): void {
    this.els.rendition.textContent = `${height}p`;
    this.els.rendition.dataset.height = String(height);
  }

  setSubtitleOptions(options: { lang: string; name: string }[], chosen: string | null): void {
    const { subtitles } = this.els;
    subtitles.replaceChildren(el("option", { text: "Off", attrs: { value: "off" } }), ...options.map((o) => el("option", { text: o.name, attrs: { value: o.lang } })));
    subtitles.value = chosen ?? "off";
    subtitles.disabled = options.length === 0;
  }

  /** Shows the controls; they fade after a while of playing untouched. */
  activity(): void {
    const { shell, video } = this.els;
    shell.dataset.controls = "shown";
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const focusInControls = this.els.controls.contains(document.activeElement) && document.activeElement !== this.els.seek;
      if (!video.paused && !this.dragging && !focusInControls) shell.dataset.controls = "hidden";
    }, IDLE_MS);
  }

  private paintTime(): void {
    if (this.dragging) return;
    this.paintClock(this.els.video.currentTime);
  }

  private paintClock(at: number): void {
    const { seek, time } = this.els;
    const duration = this.duration();
    seek.max = String(duration > 0 ? Math.round(duration * 10) / 10 : 0);
    if (!this.dragging) seek.value = String(Math.round(at * 10) / 10);
    seek.style.setProperty("--progress", `${duration > 0 ? Math.min(100, (at / duration) * 100) : 0}%`);
    seek.setAttribute("aria-valuetext", `${formatClock(at)} of ${formatClock(duration)}`);
    // Live: within two segments and a half of the edge is "LIVE" (hls.js plays 3 s behind it).
    time.textContent = this.live ? (duration - at < 5 ? "LIVE" : `−${formatClock(duration - at)} behind live`) : `${formatClock(at)} / ${formatClock(duration)}`;
  }
}
