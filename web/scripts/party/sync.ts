// Keeps this player on the party's clock. Several times a second, and at every new state,
// it reads where the party is (`positionAt` on the party's clock, through the offset the
// connection estimated) and where the video is, and acts by `correctionFor`: a seek past
// 1 s, else a playbackRate within ±5 % of the party's, else nothing. What it does to the
// video it does directly, never through the player's controls, so none of it is ever sent
// back to the party as the viewer's own play, pause or seek.
import { correctionFor, isRunning, positionAt, type PartyState } from "../../../lib/watch-party.ts";

const TICK_MS = 250;
/** Paused, the player is put on the party's exact position when further off than this. */
const PAUSED_TOLERANCE_SEC = 0.05;
/** After a seek lands and plays, drift is not judged for this long (the clock settles). */
const SETTLE_MS = 400;

export class PartySync {
  state: PartyState | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** When our last seek during playback was made (performance.now), until it plays again. */
  #seekStartedAt: number | null = null;
  /** How long a seek takes to play again here (a moving average): seeks aim that far ahead. */
  #seekLatencyMs = 300;
  #settleUntil = 0;
  /** The last drift measured while running (seconds; + ahead), for the page's own display and the tests. */
  lastDriftSec: number | null = null;
  seeks = 0;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly durationSec: () => number,
    private readonly offsetMs: () => number | null,
  ) {
    video.addEventListener("playing", () => {
      if (this.#seekStartedAt === null) return;
      const took = performance.now() - this.#seekStartedAt;
      this.#seekStartedAt = null;
      this.#seekLatencyMs = Math.min(3000, 0.6 * this.#seekLatencyMs + 0.4 * took);
      this.#settleUntil = performance.now() + SETTLE_MS;
    });
  }

  start(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.video.playbackRate = 1;
  }

  /** A state from the party: newer ones only. */
  apply(state: PartyState): void {
    if (this.state && state.seq < this.state.seq) return;
    const jumped = !this.state || state.pos !== this.state.pos || state.at !== this.state.at;
    this.state = state;
    if (jumped) this.#settleUntil = 0;
    this.tick();
  }

  /** Where the party is now, on its clock; null before a state and a clock offset. */
  partyPosition(): number | null {
    const offset = this.offsetMs();
    if (!this.state || offset === null) return null;
    return positionAt(this.state, Date.now() + offset, this.durationSec());
  }

  tick(): void {
    const state = this.state;
    const video = this.video;
    const partyPos = this.partyPosition();
    if (!state || partyPos === null || video.readyState === HTMLMediaElement.HAVE_NOTHING) return;
    if (!isRunning(state)) {
      if (!video.paused) video.pause();
      video.playbackRate = state.rate;
      this.#seekStartedAt = null;
      this.lastDriftSec = video.currentTime - state.pos;
      if (!video.seeking && Math.abs(video.currentTime - state.pos) > PAUSED_TOLERANCE_SEC) this.#seek(state.pos);
      return;
    }
    if (video.paused) this.#play();
    // A seek of ours still loading, or just landed: judge drift once it plays steadily.
    if (video.seeking || this.#seekStartedAt !== null || performance.now() < this.#settleUntil) return;
    const drift = video.currentTime - partyPos;
    this.lastDriftSec = drift;
    const c = correctionFor(drift, partyPos, state.rate);
    if (c.kind === "seek") {
      // Aim where the party will be when this seek plays.
      this.#seekStartedAt = performance.now();
      this.#seek(Math.min(partyPos + (this.#seekLatencyMs / 1000) * state.rate, Math.max(0, this.durationSec() - 0.25)));
      video.playbackRate = state.rate;
    } else if (Math.abs(video.playbackRate - c.rate) > 1e-3) {
      video.playbackRate = c.rate;
    }
  }

  #seek(to: number): void {
    this.seeks++;
    this.video.currentTime = to;
  }

  /** Plays; where the browser refuses sound without a gesture, muted (the mute button shows it). */
  #play(): void {
    void this.video.play().catch((err: Error) => {
      if (err.name === "NotAllowedError" && !this.video.muted) {
        this.video.muted = true;
        void this.video.play().catch(() => undefined);
      }
    });
  }
}
