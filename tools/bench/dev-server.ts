// Starts one `wrangler dev` in its own process group for the benchmark, and always kills the whole group.
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { offlineEnv, projectRoot } from "../project.ts";

const wranglerJs = path.join(projectRoot, "node_modules/wrangler/bin/wrangler.js");

export type DevServer = {
  name: string;
  url: string;
  /** The wrangler process, leader of its own process group. */
  pid: number;
  logFile: string;
  log: () => string;
  stop: () => Promise<void>;
};

/** Every server started and not yet stopped, so an exit on any path can kill them. */
const running = new Set<DevServer>();

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

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
  vars?: Record<string, string>;
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
    ...Object.entries(o.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
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

type Proc = { pid: number; ppid: number; comm: string };

function readProcs(): Proc[] {
  const procs: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may itself contain spaces or parentheses.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      procs.push({ pid: Number(entry), ppid, comm });
    } catch {
      // The process ended while we looked.
    }
  }
  return procs;
}

export type TreeProcess = { pid: number; comm: string; role: string };

/**
 * The workerd processes under a wrangler: one runs wrangler's proxy Worker on the public
 * port, the other runs the user Worker(s). Told apart by the public port in the command line.
 */
export function workerdProcesses(server: DevServer): TreeProcess[] {
  const procs = readProcs();
  const tree = new Set([server.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (tree.has(p.ppid) && !tree.has(p.pid)) (tree.add(p.pid), (grew = true));
  }
  const port = new URL(server.url).port;
  return procs
    .filter((p) => tree.has(p.pid) && p.comm === "workerd")
    .map((p) => {
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${p.pid}/cmdline`, "utf8");
      } catch {}
      return { pid: p.pid, comm: p.comm, role: cmdline.includes(`:${port}\0`) || cmdline.includes(`:${port} `) ? "proxy" : "runtime" };
    });
}
