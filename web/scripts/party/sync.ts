// Keeps this player on the party's clock. Several times a second, and at every new state,
// it reads where the party is (`positionAt` on the party's clock, through the offset the
// connection estimated) and where the video is, and acts by `correctionFor`: a seek past
// 1 s, else a playbackRate within ±5 % of the party's, else nothing. What it does to the
// video it does directly, never through the player's controls, so none of it is ever sent
// back to the party as the viewer's own play, pause or seek.
//
// A seek while the party plays is a seek and hold: a seek takes a few hundred
// milliseconds, never the same twice (buffered or not, a segment to fetch, a keyframe to
// decode from), so aiming it at where the party will be when it lands misses by as much as
// that varies. Instead the player seeks a little ahead of the party, holds there once
// landed (playbackRate 0: still "playing", so the controls, the player's status and
// hls.js see no pause), and lets go at the instant the party's clock reaches it.
import { correctionFor, isRunning, positionAt, SEEK_THRESHOLD_SEC, type PartyState } from "../../../lib/watch-party.ts";

const TICK_MS = 250;
/** Paused, the player is put on the party's exact position when further off than this. */
const PAUSED_TOLERANCE_SEC = 0.05;
/** After a hold lets go, drift is not judged for this long (the clock settles). */
const SETTLE_MS = 400;
/** A player that has played to the end stays there while the party is this close to it. */
const END_SLACK_SEC = SEEK_THRESHOLD_SEC;
/** A seek aims at least this far ahead of the party (party seconds at its rate). */
const MIN_LEAD_SEC = 0.25;
/** A seek has landed where it was aimed when this close (a frame or two at most, by the browser's rounding). */
const LANDED_WITHIN_SEC = 0.1;
/** Landing elsewhere, a hold seeks again this many times at most (then takes where it is, and the drift correction goes on). */
const MAX_TRIES = 4;
/** A held seek that has not landed after this long is a stall, reported as one. */
const STALL_AFTER_MS = 1000;
/** The longest a hold waits for the party (the longest lead is 1.5 × 3 s): beyond, the party has jumped back. */
const MAX_HOLD_MS = 6000;

type Hold = {
  /** Where the seek went (seconds): the party reaches it a moment later. */
  target: number;
  startedAt: number;
  landed: boolean;
  /** Where playbackRate 0 is refused (an older browser), the hold is a pause. */
  paused: boolean;
  /** Seeks made for this hold: re-aimed a few times at most. */
  tries: number;
};

export class PartySync {
  state: PartyState | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #hold: Hold | null = null;
  /** Wakes the hold at the instant it is to let go, between ticks. */
  #release: ReturnType<typeof setTimeout> | undefined;
  /** How long a seek takes to land here (a moving average): seeks lead the party by more. */
  #seekLatencyMs = 300;
  /**
   * How long this player takes to move once a hold lets go (a few tens of milliseconds in
   * Chromium), learnt from the drift measured after each: holds let go that much early.
   */
  #startLagMs = 0;
  /** The next drift judged is the error of a hold's release. */
  #judgeRelease = false;
  #settleUntil = 0;
  #stalled = false;
  /** The last drift measured while running (seconds; + ahead), for the page's own display and the tests. */
  lastDriftSec: number | null = null;
  seeks = 0;

  /** What the sync has learnt about this player, for the tests and benches. */
  get learnt(): { seekLatencyMs: number; startLagMs: number } {
    return { seekLatencyMs: Math.round(this.#seekLatencyMs), startLagMs: Math.round(this.#startLagMs) };
  }

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly durationSec: () => number,
    private readonly offsetMs: () => number | null,
    /** A held seek is taking long (true) or has landed (false): a stall, as far as the party is concerned. */
    private readonly onStall: (stalled: boolean) => void = () => undefined,
  ) {}

  start(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#letGo(null);
    this.video.playbackRate = 1;
  }

  /** A state from the party: newer ones only. */
  apply(state: PartyState): void {
    if (this.state && state.seq < this.state.seq) return;
    const jumped = !this.state || state.pos !== this.state.pos || state.at !== this.state.at || state.rate !== this.state.rate;
    this.state = state;
    // A hold in progress is judged again against the new state (#holdTick).
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
      if (this.#hold) this.#letGo(null);
      this.#judgeRelease = false;
      if (!video.paused) video.pause();
      video.playbackRate = state.rate;
      this.lastDriftSec = video.currentTime - state.pos;
      if (!video.seeking && Math.abs(video.currentTime - state.pos) > PAUSED_TOLERANCE_SEC) this.#seek(state.pos);
      return;
    }
    if (this.#hold) {
      this.#holdTick(this.#hold, partyPos, state.rate);
      return;
    }
    const duration = this.durationSec();
    if (video.ended) {
      // play() on an ended video starts it over at 0 (the sync would then seek back to the
      // end, and so on for ever): the party has reached the end too, so stay; or it went
      // back (the host's seek), so go where it is.
      if (duration > 0 && partyPos >= duration - END_SLACK_SEC) return;
      this.#seekAndHold(partyPos, state.rate);
      return;
    }
    if (video.paused) this.#play();
    // A seek not ours still loading (the engine's), or a hold just let go: judge drift once it plays steadily.
    if (video.seeking || performance.now() < this.#settleUntil) return;
    const drift = video.currentTime - partyPos;
    this.lastDriftSec = drift;
    if (this.#judgeRelease) {
      this.#judgeRelease = false;
      if (Math.abs(drift) < SEEK_THRESHOLD_SEC) this.#startLagMs = Math.min(500, Math.max(0, this.#startLagMs - 0.7 * drift * 1000));
    }
    const c = correctionFor(drift, partyPos, state.rate);
    if (c.kind === "seek") this.#seekAndHold(partyPos, state.rate);
    else if (Math.abs(video.playbackRate - c.rate) > 1e-3) video.playbackRate = c.rate;
  }

  /** Seeks ahead of the party by more than a seek takes here, and holds there (#holdTick). */
  #seekAndHold(partyPos: number, rate: number, tries = 1): void {
    const video = this.video;
    const leadSec = Math.max(MIN_LEAD_SEC, (1.5 * this.#seekLatencyMs) / 1000) * rate;
    const target = Math.min(partyPos + leadSec, Math.max(0, this.durationSec() - 0.25));
    let paused = false;
    try {
      video.playbackRate = 0;
    } catch {
      // NotSupportedError: this browser has no rate 0.
    }
    if (video.playbackRate !== 0) {
      paused = true;
      if (!video.paused) video.pause();
    }
    clearTimeout(this.#release);
    this.#hold = { target, startedAt: performance.now(), landed: false, paused, tries };
    // Held at rate 0 it must be playing, for a rate alone to let it go. play() first: on an
    // ended video play() itself seeks to 0, which the seek below then overrides.
    if (!paused && video.paused) this.#play();
    this.#seek(target);
  }

  #holdTick(hold: Hold, partyPos: number, rate: number): void {
    const video = this.video;
    const now = performance.now();
    if (!hold.landed) {
      if (video.seeking || video.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) {
        if (!this.#stalled && now - hold.startedAt > STALL_AFTER_MS) this.#setStalled(true);
        // The party got there first: aim further ahead (this seek has taught the latency). Or it went elsewhere.
        if (partyPos > hold.target || ((hold.target - partyPos) / rate) * 1000 > MAX_HOLD_MS) {
          this.#learn(now - hold.startedAt);
          this.#seekAndHold(partyPos, rate, hold.tries + 1);
        }
        return;
      }
      // Landed somewhere else (another seek overrode ours): aim again, a few times at most.
      if (Math.abs(video.currentTime - hold.target) > LANDED_WITHIN_SEC && hold.tries < MAX_TRIES) {
        this.#seekAndHold(partyPos, rate, hold.tries + 1);
        return;
      }
      hold.landed = true;
      this.#learn(now - hold.startedAt);
      this.#setStalled(false);
    }
    const waitMs = ((hold.target - partyPos) / rate) * 1000;
    // The party went elsewhere meanwhile (a seek, or a stall of someone else's it waited for): aim again.
    if (waitMs < -SEEK_THRESHOLD_SEC * 1000 || waitMs > MAX_HOLD_MS) {
      this.#seekAndHold(partyPos, rate);
      return;
    }
    // Within a frame of the instant, less the time the player takes to move (timers are not more exact than that): go.
    const goInMs = waitMs - this.#startLagMs;
    if (goInMs <= 8) {
      this.#letGo(rate);
      return;
    }
    clearTimeout(this.#release);
    this.#release = setTimeout(() => this.tick(), goInMs);
  }

  /** Ends the hold: plays on at `rate` from where it held, or (null) just forgets it. */
  #letGo(rate: number | null): void {
    const hold = this.#hold;
    this.#hold = null;
    clearTimeout(this.#release);
    this.#setStalled(false);
    if (!hold || rate === null) return;
    this.video.playbackRate = rate;
    if (hold.paused || this.video.paused) this.#play();
    this.#settleUntil = performance.now() + SETTLE_MS;
    this.#judgeRelease = true;
  }

  #learn(tookMs: number): void {
    this.#seekLatencyMs = Math.min(3000, 0.6 * this.#seekLatencyMs + 0.4 * tookMs);
  }

  #setStalled(stalled: boolean): void {
    if (this.#stalled === stalled) return;
    this.#stalled = stalled;
    this.onStall(stalled);
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
