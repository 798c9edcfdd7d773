// Starts the whole platform exactly as `npm run dev` does — on a free port, against a
// fresh state directory, in its own process group — for the browser tests and the
// benchmarks, and stops all of it.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { offlineEnv, projectRoot } from "./project.ts";

export type Platform = {
  url: string;
  /** The dev script's process: leader of the group holding wrangler and workerd. */
  pid: number;
  stop: () => Promise<void>;
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    // The dev script, wrangler and workerd share one process group: end them all.
    process.kill(-child.pid!, "SIGTERM");
  });
}

async function waitUntilUp(urls: string[], child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited with ${child.exitCode} before it was ready`);
    const ok = await Promise.all(urls.map((u) => fetch(u).then((r) => r.ok, () => false)));
    if (ok.every(Boolean)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the platform did not answer ${urls.join(" and ")} within ${timeoutMs / 1000} s`);
}

/** Resolves once the api and the media origin both answer their health checks. */
export async function startPlatform(o: { stateDir: string; logFile: string; timeoutMs?: number; extraArgs?: string[] }): Promise<Platform> {
  await rm(o.stateDir, { recursive: true, force: true });
  await mkdir(path.dirname(o.logFile), { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(o.logFile);
  const child = spawn(process.execPath, ["tools/dev.ts", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", o.stateDir, ...(o.extraArgs ?? [])], {
    cwd: projectRoot,
    env: offlineEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  // If this process dies first, take the platform with it.
  const onExit = () => child.pid && child.exitCode === null && process.kill(-child.pid, "SIGKILL");
  process.once("exit", onExit);
  const stop = async () => {
    process.off("exit", onExit);
    await stopGroup(child);
    log.end();
  };
  try {
    await waitUntilUp([`${url}/healthz`, `${url}/p/healthz`], child, o.timeoutMs ?? 90_000);
  } catch (err) {
    await stop();
    const output = await readFile(o.logFile, "utf8").catch(() => "");
    throw new Error(`${(err as Error).message}\n--- ${o.logFile} ---\n${output.slice(-4000)}`);
  }
  return { url, pid: child.pid!, stop };
}
