// Runs the live ffmpeg with this terminal's output (its warnings and progress line) and
// turns SIGINT/SIGTERM into a graceful stop: ffmpeg closes its last segment and uploads
// the final playlists, and this process stays alive to end the event afterwards.
import { spawn } from "node:child_process";

export type FfmpegOutcome = {
  /** ffmpeg's exit code, or null when it was killed by a signal or could not start. */
  code: number | null;
  /** The signal this process received and passed on, if any: the run was stopped, not failed. */
  stoppedBy: NodeJS.Signals | null;
};

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * ffmpeg aborts its network I/O on a second signal, losing the final segment and the
 * playlists' end; but npm passes a Ctrl-C on to us as well as the terminal does. Signals
 * this close together are one request to stop; a later one means "stop now".
 */
const SAME_REQUEST_MS = 1000;

/** `quiet`: ffmpeg's output is dropped (tests and benchmarks), not shown. */
export function runFfmpeg(args: readonly string[], options: { quiet?: boolean } = {}): Promise<FfmpegOutcome> {
  return new Promise((resolve) => {
    // Its own process group, so a terminal's Ctrl-C reaches it only through us, once.
    const child = spawn("ffmpeg", args, { stdio: options.quiet ? "ignore" : "inherit", detached: true });
    let stoppedBy: NodeJS.Signals | null = null;
    let lastForward = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (Date.now() - lastForward < SAME_REQUEST_MS) return;
      if (stoppedBy === null) console.error(`\nlive: stopping; ffmpeg is sending its last segment (interrupt again to abort it)`);
      stoppedBy ??= signal;
      lastForward = Date.now();
      child.kill(signal);
    };
    // Never leave ffmpeg pushing to an event nobody is watching over.
    const onExit = () => child.kill("SIGTERM");
    for (const s of SIGNALS) process.on(s, onSignal);
    process.on("exit", onExit);
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      for (const s of SIGNALS) process.off(s, onSignal);
      process.off("exit", onExit);
      resolve({ code, stoppedBy });
    };
    child.on("error", (err) => {
      console.error(`live: cannot run ffmpeg: ${err.message}`);
      finish(null);
    });
    child.on("exit", (code) => finish(code));
  });
}
