// "Next episode" near the end of an episode: shown as its credits begin (the Play answer's
// credits segment), else in the last seconds (or at the end), a countdown of COUNTDOWN_SEC
// that pauses while the viewer pauses, then on to the next one. Cancel ("Watch credits"
// when it came with the credits) hides it; at the end the link stays, without a countdown.
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import type { PlayerElements } from "./dom.ts";
import { nextEpisodeHref } from "./links.ts";

const SHOW_BEFORE_END_SEC = 10;
const COUNTDOWN_SEC = 10;

export class NextEpisode {
  private shown = false;
  private cancelled = false;
  private remaining = COUNTDOWN_SEC;
  private timer: ReturnType<typeof setInterval> | undefined;
  private paused = false;
  readonly href: string;

  constructor(
    private readonly els: Pick<PlayerElements, "nextUp" | "nextEpisode" | "nextEpisodeName" | "nextEpisodeCountdown" | "nextEpisodeCancel">,
    titleId: string,
    next: NonNullable<StartedPlayback["nextEpisode"]>,
    private readonly go: (href: string) => void,
    /** Where the credits begin, if the episode has a credits segment. */
    private readonly creditsStartSec: number | null = null,
  ) {
    this.href = nextEpisodeHref(titleId, next.id, location.search);
    els.nextEpisode.href = this.href;
    els.nextEpisode.dataset.episodeId = next.id;
    els.nextEpisodeName.textContent = `S${next.seasonNumber}:E${next.number} ${next.name}`;
    els.nextEpisode.addEventListener("click", (e) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      this.advance();
    });
    if (creditsStartSec !== null) els.nextEpisodeCancel.textContent = "Watch credits";
    els.nextEpisodeCancel.addEventListener("click", () => {
      this.cancelled = true;
      this.stopCountdown();
      this.setVisible(false);
    });
  }

  /** Playback paused or resumed: the countdown waits while the viewer pauses. */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** From timeupdate. */
  update(currentTime: number, duration: number, paused: boolean): void {
    this.paused = paused;
    if (this.shown || this.cancelled || !(duration > 0)) return;
    if (this.creditsStartSec !== null ? currentTime >= this.creditsStartSec : duration - currentTime <= SHOW_BEFORE_END_SEC) this.show(true);
  }

  ended(): void {
    this.paused = false;
    if (this.cancelled) {
      this.els.nextEpisodeCountdown.parentElement!.hidden = true;
      this.setVisible(true);
      return;
    }
    if (!this.shown) this.show(true);
  }

  private show(countdown: boolean): void {
    this.shown = true;
    this.setVisible(true);
    if (!countdown) return;
    this.remaining = COUNTDOWN_SEC;
    this.els.nextEpisodeCountdown.textContent = String(this.remaining);
    this.els.nextEpisode.dataset.countdown = String(this.remaining);
    this.timer = setInterval(() => {
      if (this.paused) return;
      this.remaining--;
      this.els.nextEpisodeCountdown.textContent = String(Math.max(0, this.remaining));
      this.els.nextEpisode.dataset.countdown = String(Math.max(0, this.remaining));
      if (this.remaining <= 0) this.advance();
    }, 1000);
  }

  private advance(): void {
    this.stopCountdown();
    this.go(this.href);
  }

  private stopCountdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private setVisible(visible: boolean): void {
    this.els.nextUp.hidden = !visible;
    this.els.nextEpisode.hidden = !visible;
  }
}
