// `npm run bench:auth`: the CPU cost of a sign-in (its password hash) and of an
// authenticated request's session check, against a health check in the same run — all
// of the platform's processes counted, from /proc.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startPlatform, type Platform } from "../platform.ts";
import { cpuMs, processTree } from "./proc.ts";
import { benchResults } from "./results.ts";

async function measure(platform: Platform, n: number, request: () => Promise<Response>) {
  const pids = processTree(platform.pid, Number(new URL(platform.url).port)).map((p) => p.pid);
  const cpu = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const cpuBefore = cpu();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const res = await request();
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`request ${i} answered ${res.status}`);
  }
  return { cpuMsPer: (cpu() - cpuBefore) / n, wallMsPer: (performance.now() - started) / n };
}

const work = await mkdtemp(path.join(tmpdir(), "marquee-bench-auth-"));
const platform = await startPlatform({ stateDir: path.join(work, "state"), logFile: path.join(work, "dev.log") });
try {
  const email = "bench@example.com";
  const password = "a long and unusual passphrase";
  const signup = await fetch(`${platform.url}/v1/auth/signup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
  const { token } = (await signup.json()) as { token: string };
  const authed = { Authorization: `Bearer ${token}` };
  const login = () => fetch(`${platform.url}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });

  // Warm every path once so nothing measured pays for a first compile.
  for (const warm of [() => fetch(`${platform.url}/healthz`), () => fetch(`${platform.url}/v1/profiles`, { headers: authed }), login]) await (await warm()).arrayBuffer();

  const healthBefore = await measure(platform, 300, () => fetch(`${platform.url}/healthz`));
  const profiles = await measure(platform, 300, () => fetch(`${platform.url}/v1/profiles`, { headers: authed }));
  const signIns = await measure(platform, 40, login);
  const healthAfter = await measure(platform, 300, () => fetch(`${platform.url}/healthz`));
  // The baseline is measured before and after, so drift in the machine shows as a spread.
  const health = { cpuMsPer: (healthBefore.cpuMsPer + healthAfter.cpuMsPer) / 2, wallMsPer: (healthBefore.wallMsPer + healthAfter.wallMsPer) / 2 };
  console.log(`   (baseline before ${healthBefore.cpuMsPer.toFixed(2)} ms, after ${healthAfter.cpuMsPer.toFixed(2)} ms CPU per request)`);

  const row = (label: string, m: { cpuMsPer: number; wallMsPer: number }) =>
    `   ${label.padEnd(44)} ${m.cpuMsPer.toFixed(2).padStart(8)} ms CPU ${m.wallMsPer.toFixed(2).padStart(8)} ms wall   ${(m.cpuMsPer / health.cpuMsPer).toFixed(2).padStart(6)}x health CPU`;
  console.log("bench:auth — npm run dev on this machine; CPU of every platform process per request (wrangler, workerd)");
  console.log(row("GET /healthz (baseline)", health));
  console.log(row("GET /v1/profiles (session check + 1 query)", profiles));
  console.log(row("POST /v1/auth/login (PBKDF2, 100,000 rounds)", signIns));
  console.log(`   session check + route query over baseline: ${(profiles.cpuMsPer - health.cpuMsPer).toFixed(2)} ms CPU`);
  console.log(`   sign-in over baseline: ${(signIns.cpuMsPer - health.cpuMsPer).toFixed(2)} ms CPU (the hash dominates)`);
  console.log("   D1 round trips for the session check: 1 (asserted by workers/api/test/auth.round-trips.test.ts)");

  const results = benchResults("auth");
  const baseline = { name: "GET /healthz", value: health.cpuMsPer };
  results.record({ name: "GET /healthz CPU per request (baseline, mean of before and after)", value: health.cpuMsPer, unit: "ms CPU", better: "lower" });
  results.record({ name: "GET /v1/profiles CPU per request (session check + 1 query)", value: profiles.cpuMsPer, unit: "ms CPU", baseline, better: "lower" });
  results.record({ name: "POST /v1/auth/login CPU per request (PBKDF2, 100,000 rounds)", value: signIns.cpuMsPer, unit: "ms CPU", baseline, better: "lower" });
  results.record({ name: "GET /v1/profiles wall time per request", value: profiles.wallMsPer, unit: "ms", baseline: { name: "GET /healthz", value: health.wallMsPer }, better: "lower" });
} finally {
  await platform.stop();
  await rm(work, { recursive: true, force: true });
}
