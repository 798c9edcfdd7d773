// Runs `wrk` against one URL and reads back its requests per second and error counts.
import { spawn, spawnSync } from "node:child_process";

export type WrkResult = {
  requestsPerSec: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors: any of these makes the run meaningless. */
  errors: number;
  latencyAvg: string;
  latencyP99: string;
  raw: string;
};

export function wrkAvailable(): boolean {
  return spawnSync("wrk", ["--version"], { stdio: "ignore" }).error === undefined;
}

export function runWrk(url: string, o: { threads: number; connections: number; seconds: number }): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, "--latency", url];
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    // wrk stops itself after -d; this only guards against it hanging.
    const guard = setTimeout(() => child.kill("SIGKILL"), (o.seconds + 15) * 1000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(guard);
      if (code !== 0) return reject(new Error(`wrk ${args.join(" ")} exited with ${code}:\n${out}`));
      const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
        requests: num(/(\d+) requests in/),
        errors:
          (Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)) +
          (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
        latencyAvg: /Latency\s+(\S+)/.exec(out)?.[1] ?? "?",
        latencyP99: /Latency Distribution[\s\S]*?\n\s+99%\s+(\S+)/.exec(out)?.[1] ?? "?",
        raw: out,
      });
    });
  });
}
