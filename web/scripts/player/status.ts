// #player-status[data-state]: loading, playing, paused, ended, error (docs/web-app.md).
export type PlayerState = "loading" | "playing" | "paused" | "ended" | "error";

const LABELS: Record<PlayerState, string> = {
  loading: "Loading…",
  playing: "Playing",
  paused: "Paused",
  ended: "Ended",
  error: "Playback stopped",
};

export class StatusView {
  state: PlayerState = "loading";

  constructor(
    private readonly status: HTMLElement,
    private readonly shell: HTMLElement,
  ) {}

  /** An error stays until `clearError()` (a retry): media events do not paint over it. */
  set(state: PlayerState): void {
    if (this.state === "error" && state !== "error") return;
    this.apply(state);
  }

  clearError(): void {
    if (this.state === "error") this.apply("loading");
  }

  private apply(state: PlayerState): void {
    this.state = state;
    this.status.dataset.state = state;
    this.status.textContent = LABELS[state];
    this.shell.dataset.state = state;
  }
}
