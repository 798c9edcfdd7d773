// Starts the whole platform with `npm run dev`'s own script on a free port, against a
// fresh local state, waits until both origins answer, and always tears it down.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { offlineEnv, projectRoot } from "../tools/project.ts";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

const stateDir = path.join(projectRoot, ".wrangler/e2e-state");
const logFile = path.join(projectRoot, ".wrangler/e2e-dev.log");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
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

function stop(child: ChildProcess): Promise<void> {
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

export default async function setup(project: TestProject) {
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(path.dirname(logFile), { recursive: true });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const log = createWriteStream(logFile);
  const child = spawn(
    process.execPath,
    ["tools/dev.ts", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", stateDir],
    { cwd: projectRoot, env: offlineEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const onExit = () => child.pid && child.exitCode === null && process.kill(-child.pid, "SIGKILL");
  process.once("exit", onExit);
  try {
    await waitUntilUp([`${baseUrl}/healthz`, `${baseUrl}/p/healthz`], child, 90_000);
  } catch (err) {
    await stop(child);
    const output = await readFile(logFile, "utf8").catch(() => "");
    throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${output.slice(-4000)}`);
  }
  project.provide("baseUrl", baseUrl);
  return async () => {
    process.off("exit", onExit);
    await stop(child);
    log.end();
  };
}
