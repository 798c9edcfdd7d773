// Starts one `wrangler dev` in its own process group for the benchmark, and always kills the whole group.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../platform.ts";
import { offlineEnv, projectRoot } from "../project.ts";
import { processTree, type TreeProcess } from "./proc.ts";

const wranglerJs = path.join(projectRoot, "node_modules/wrangler/bin/wrangler.js");

export type DevServer = {
  name: string;
  url: string;
  /** The wrangler process, leader of its own process group. */
  pid: number;
  logFile: string;
  log: () => string;
  /** How often wrangler reloaded the Worker since it started: each one is a restart mid-measurement. */
  reloads: () => number;
  stop: () => Promise<void>;
};

/** Every server started and not yet stopped, so an exit on any path can kill them. */
const running = new Set<DevServer>();

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Synchronous, for `process.on("exit")`, where nothing asynchronous runs any more. */
export function killAllNow(): void {
  for (const server of running) killGroup(server.pid, "SIGKILL");
  running.clear();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

export type StartOptions = {
  name: string;
  config: string;
  persistTo: string;
  logFile: string;
  /** A path that answers (any status) once the Worker is up. */
  readyPath: string;
  timeoutMs?: number;
};

export async function startDevServer(o: StartOptions): Promise<DevServer> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = [
    wranglerJs, "dev",
    "--config", o.config,
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--persist-to", o.persistTo,
    "--show-interactive-dev-session=false",
  ];
  // Output goes straight to a file: piping thousands of log lines a second through this
  // process would steal CPU from the load being measured.
  const fd = openSync(o.logFile, "w");
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: offlineEnv, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start wrangler dev for ${o.name}`);
  let exited: string | null = null;
  child.on("exit", (code, signal) => (exited = `exited (${signal ?? code})`));

  const server: DevServer = {
    name: o.name,
    url: `http://127.0.0.1:${port}`,
    pid,
    logFile: o.logFile,
    log: () => readFileSync(o.logFile, "utf8"),
    reloads: () => server.log().split("Reloading local server").length - 1,
    stop: async () => {
      running.delete(server);
      killGroup(pid, "SIGTERM");
      for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
      killGroup(pid, "SIGKILL");
    },
  };
  running.add(server);

  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      const res = await fetch(server.url + o.readyPath, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return server;
    } catch {
      await sleep(200);
    }
  }
  await server.stop();
  throw new Error(`wrangler dev for ${o.name} ${exited ?? "did not become ready"}; its output:\n${server.log().slice(-3000)}`);
}

/** The processes under a dev server's wrangler (see processTree). */
export function serverProcesses(server: DevServer): TreeProcess[] {
  return processTree(server.pid, Number(new URL(server.url).port));
}

export function workerdProcesses(server: DevServer): TreeProcess[] {
  return serverProcesses(server).filter((p) => p.role === "proxy" || p.role === "runtime");
}
