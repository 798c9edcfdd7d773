// A one-line progress bar with rate and ETA on stderr; on a non-terminal (CI, pipes) it
// prints a plain line at every tenth instead of redrawing.

export type Bar = { update(fraction: number, detail?: string): void; done(summary: string): void };

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function progressBar(label: string, options: { quiet?: boolean } = {}): Bar {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastTenth = 0;
  const write = (text: string) => !options.quiet && process.stderr.write(text);
  return {
    update(fraction, detail = "") {
      const f = Math.min(1, Math.max(0, fraction));
      if (f === 0) return; // nothing to show yet (and a failure before any progress stays one line)
      const elapsed = (performance.now() - started) / 1000;
      const eta = f > 0 ? (elapsed / f) * (1 - f) : Number.NaN;
      const pct = `${(f * 100).toFixed(0).padStart(3)}%`;
      if (tty) {
        const width = 28;
        const filled = Math.round(f * width);
        write(`\r${label.padEnd(10)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct} ETA ${formatEta(eta)} ${detail}\x1b[K`);
      } else if (Math.floor(f * 10) > lastTenth) {
        lastTenth = Math.floor(f * 10);
        write(`${label} ${pct} ETA ${formatEta(eta)} ${detail}\n`);
      }
    },
    done(summary) {
      write(tty ? `\r${label.padEnd(10)} ${summary}\x1b[K\n` : `${label} ${summary}\n`);
    },
  };
}
