// A Server-Timing header (W3C Server Timing) for a request's phases: each mark is the time
// since the one before. In a Worker the clock moves only across I/O, so a phase is what its
// awaits took — which is what the phases between D1, Durable Object and fetch calls are.

export class PhaseTimer {
  private last = performance.now();
  private readonly phases: { name: string; ms: number }[] = [];

  /** Ends the phase called `name` (a token: letters, digits, `-`, `_`). */
  mark(name: string): void {
    const now = performance.now();
    this.phases.push({ name, ms: now - this.last });
    this.last = now;
  }

  /** `context;dur=3.0, lease;dur=5.0, …` */
  header(): string {
    return this.phases.map((p) => `${p.name};dur=${p.ms.toFixed(1)}`).join(", ");
  }
}
