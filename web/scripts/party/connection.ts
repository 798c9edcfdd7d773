// The socket to a watch party's Durable Object: open it, keep it alive, estimate the clock
// offset from round trips, and reconnect after a drop — with the same playback session,
// so the party sees the same member (and keeps a host's role) within its 15 s grace.
import { CLOCK_SAMPLES, clockOffset, KEEPALIVE, KEEPALIVE_INTERVAL_MS, PARTY_CLOSE, type ClientMessage, type ClockSample, type ServerMessage } from "../../../lib/watch-party.ts";

export type ConnectionHooks = {
  message(m: ServerMessage): void;
  /** Connected (again): a `welcome` follows. */
  open(): void;
  /** Closed; `final` when it will not reconnect (the party ended, another tab took over, we left). */
  closed(code: number, final: boolean): void;
  /**
   * Asked before each reconnect: false when the party is gone. A refused upgrade (the party
   * ended while we were away) reaches the page as a bare 1006, like any drop; without this
   * the client would retry it for ever.
   */
  stillThere?(): Promise<boolean>;
};

/** Closes after which reconnecting is pointless or wrong. */
const FINAL = new Set<number>([PARTY_CLOSE.ended, PARTY_CLOSE.replaced, PARTY_CLOSE.left, 1008]);
/** A re-sync of the clock this often: clocks drift, and the first samples may have been unlucky. */
const RESYNC_MS = 30_000;
const KEPT_SAMPLES = 12;
/**
 * A socket that has never opened on this page after this many tries (10-15 s of backoff) is being
 * refused, not dropped (its upgrade answered 4xx, which a page cannot read): give up. Once
 * it has opened, drops are retried for as long as the party is there.
 */
const MAX_FIRST_TRIES = 6;

export class PartyConnection {
  #ws: WebSocket | null = null;
  #attempt = 0;
  #everOpened = false;
  #stopped = false;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #resync: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #samples: ClockSample[] = [];
  /** Pings in flight this round, and how many more to send. */
  #pingsLeft = 0;
  /** Add to Date.now() to read the party's clock (null until the first pong). */
  offsetMs: number | null = null;
  rttMs: number | null = null;

  constructor(
    private readonly url: string,
    private readonly hooks: ConnectionHooks,
  ) {}

  get connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  connect(): void {
    if (this.#stopped) return;
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    ws.addEventListener("open", () => {
      this.#attempt = 0;
      this.#everOpened = true;
      this.hooks.open();
      this.#startClockRound(CLOCK_SAMPLES);
      clearInterval(this.#keepalive);
      this.#keepalive = setInterval(() => this.#raw(KEEPALIVE.request), KEEPALIVE_INTERVAL_MS);
      clearInterval(this.#resync);
      this.#resync = setInterval(() => this.#startClockRound(3), RESYNC_MS);
    });
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string" || e.data === KEEPALIVE.response) return;
      let m: ServerMessage;
      try {
        m = JSON.parse(e.data) as ServerMessage;
      } catch {
        return;
      }
      if (m.t === "pong") this.#pong(m.c, m.s);
      this.hooks.message(m);
    });
    ws.addEventListener("close", (e) => {
      if (this.#ws !== ws) return;
      clearInterval(this.#keepalive);
      clearInterval(this.#resync);
      const final = this.#stopped || FINAL.has(e.code) || (!this.#everOpened && this.#attempt + 1 >= MAX_FIRST_TRIES);
      this.hooks.closed(e.code, final);
      if (!final) this.#reconnectLater();
    });
  }

  send(m: ClientMessage): boolean {
    return this.#raw(JSON.stringify(m));
  }

  /** Leaves the party for good (the object passes a host's role on at once). */
  leave(): void {
    this.send({ t: "leave" });
    this.stop();
  }

  /** Stops without a word: the object keeps our place for its grace, then lets us go. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearInterval(this.#keepalive);
    clearInterval(this.#resync);
    try {
      this.#ws?.close(1000, "bye");
    } catch {
      // Closing already.
    }
  }

  #raw(text: string): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    return true;
  }

  /** Pings one after another (each after the last one's pong), so they never queue behind each other. */
  #startClockRound(n: number): void {
    this.#pingsLeft = n;
    this.#ping();
  }

  #ping(): void {
    if (this.#pingsLeft <= 0) return;
    this.#pingsLeft--;
    this.send({ t: "ping", c: Date.now() });
  }

  #pong(c0: number, s: number): void {
    this.#samples.push({ c0, s, c1: Date.now() });
    if (this.#samples.length > KEPT_SAMPLES) this.#samples.shift();
    const best = clockOffset(this.#samples);
    if (best) {
      this.offsetMs = best.offsetMs;
      this.rttMs = best.rttMs;
    }
    this.#ping();
  }

  /** 0.5 s, 1 s, 2 s … up to 10 s, with jitter, so a party's members do not all come back in one instant. */
  #reconnectLater(): void {
    const base = Math.min(10_000, 500 * 2 ** this.#attempt++);
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#reconnect(), base / 2 + Math.random() * (base / 2));
  }

  async #reconnect(): Promise<void> {
    if (this.#stopped) return;
    if (this.hooks.stillThere && !(await this.hooks.stillThere())) {
      if (this.#stopped) return;
      this.#stopped = true;
      this.hooks.closed(PARTY_CLOSE.ended, true);
      return;
    }
    this.connect();
  }
}
