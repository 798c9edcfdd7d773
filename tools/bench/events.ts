// `npm run bench:events`: watch events from HTTP to D1 under `npm run dev` — how many a
// second are accepted (202) and how many land in D1, counted there, with zero loss and no
// double counts (resent batches included); D1 round trips per consumed batch, from the
// consumer's own log lines. Baseline in the same run: a session-checked GET at the same
// concurrency, so the figures are relative to what this machine does for any request.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startPlatform } from "../platform.ts";
import { offlineEnv, projectRoot } from "../project.ts";
import { benchResults } from "./results.ts";
import { simulatedClient } from "../../test-support/simulated-clients.ts";
import { localStreamIds } from "./stream-ids.ts";

const CLIENTS = 20;
const PROFILES_PER_CLIENT = 5;
const EVENTS_PER_REQUEST = 50;
const INTAKE_SECONDS = 20;
/** A hard cap on what is sent, whatever the machine's speed: the run stays bounded. */
const MAX_EVENTS = 80_000;
/** One request in this many is sent twice, as a client that lost the 202 would. */
const RESEND_EVERY = 20;

const run = promisify(execFile);
const work = await mkdtemp(path.join(tmpdir(), "marquee-bench-events-"));
const stateDir = path.join(work, "state");
const logFile = path.join(work, "dev.log");

/** A query on the local D1 that `wrangler dev` is using (wrangler d1 execute --local). */
async function d1(sql: string): Promise<Record<string, number>[]> {
  const { stdout } = await run(
    path.join(projectRoot, "node_modules/.bin/wrangler"),
    ["d1", "execute", "DB", "--local", "--persist-to", stateDir, "--json", "--command", sql],
    { cwd: projectRoot, env: offlineEnv, maxBuffer: 16 * 1024 * 1024 },
  );
  return (JSON.parse(stdout) as { results: Record<string, number>[] }[])[0]!.results;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const platform = await startPlatform({ stateDir, logFile });
try {
  const url = platform.url;
  const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const titleIds = ((await (await fetch(`${url}/v1/titles?limit=20`)).json()) as { titles: { id: string; kind: string }[] }).titles.filter((t) => t.kind === "movie").map((t) => t.id).slice(0, 10);

  // One account per client, on a plan, with five profiles it reports for in turn: a
  // profile may send 20 batches in 10 s (the EVENTS_RATE_LIMIT binding), and one client
  // here sends more than that, as five viewers of one household would.
  const streamId = await localStreamIds();
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const signup = await fetch(`${url}/v1/auth/signup`, json({ email: `bench-events-${i}@example.com`, password: "a long and unusual passphrase" }, simulatedClient(i)));
      const { token, accountId } = (await signup.json()) as { token: string; accountId: string };
      const headers = { Authorization: `Bearer ${token}` };
      await (await fetch(`${url}/v1/billing/checkout`, json({ planId: "premium" }, headers))).arrayBuffer();
      for (let p = 1; p < PROFILES_PER_CLIENT; p++) await (await fetch(`${url}/v1/profiles`, json({ name: `Viewer ${p}` }, headers))).arrayBuffer();
      const me = (await (await fetch(`${url}/v1/me`, { headers })).json()) as { profiles: { id: string }[] };
      return { headers, accountId, profileIds: me.profiles.map((p) => p.id) };
    }),
  );

  // Baseline: a session-checked read at the same concurrency.
  const baselineStarted = performance.now();
  let baselineRequests = 0;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() - baselineStarted < 5_000) {
        const res = await fetch(`${url}/v1/me`, { headers: c.headers });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`baseline GET /v1/me answered ${res.status}`);
        baselineRequests++;
      }
    }),
  );
  const baselineRps = baselineRequests / ((performance.now() - baselineStarted) / 1000);

  // Intake: every client sends batches as fast as it is answered.
  const sentIds = new Set<string>();
  /** (profile, title) pairs that sent a start: a profile counts once per title and day (counted_plays). */
  const started = new Set<string>();
  let requests = 0;
  let resent = 0;
  const latencies: number[] = [];
  const t0 = Date.now();
  const intakeStarted = performance.now();
  await Promise.all(
    clients.map(async (c, ci) => {
      let position = 0;
      for (let r = 0; performance.now() - intakeStarted < INTAKE_SECONDS * 1000 && sentIds.size < MAX_EVENTS; r++) {
        const profileId = c.profileIds[r % c.profileIds.length]!;
        const titleId = titleIds[(ci + r) % titleIds.length]!;
        const playbackSessionId = await streamId({ accountId: c.accountId, profileId, titleId, episodeId: null });
        const events = Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => {
          const type = i === 0 ? "start" : "heartbeat";
          if (type === "start") started.add(`${profileId}|${titleId}`);
          position += 5;
          return { id: randomUUID(), type, playbackSessionId, profileId, titleId, positionSec: position, durationSec: 7200, clientTime: Date.now() + i };
        });
        for (const e of events) sentIds.add(e.id);
        const copies = r % RESEND_EVERY === RESEND_EVERY - 1 ? 2 : 1;
        for (let k = 0; k < copies; k++) {
          const sentAt = performance.now();
          const res = await fetch(`${url}/v1/events`, json({ events }, c.headers));
          await res.arrayBuffer();
          latencies.push(performance.now() - sentAt);
          if (res.status !== 202) throw new Error(`POST /v1/events answered ${res.status}`);
          requests++;
          if (k > 0) resent++;
        }
      }
    }),
  );
  const intakeSeconds = (performance.now() - intakeStarted) / 1000;
  const sent = sentIds.size;

  // Landing: count in D1 until every event is there (or give up after 5 minutes).
  let landed = 0;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    landed = (await d1("SELECT COUNT(*) AS n FROM watch_events"))[0]!.n!;
    if (landed >= sent) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const landedSeconds = (Date.now() - t0) / 1000;
  const [{ plays }] = (await d1("SELECT COALESCE(SUM(plays), 0) AS plays FROM title_plays_daily WHERE country = '*'")) as [{ plays: number }];

  const batches = (await readFile(logFile, "utf8"))
    .split("\n")
    .filter((l) => l.includes('"event":"queue_batch"') && l.includes('"queue":"watch-events"'))
    .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as { messages: number; d1RoundTrips: number; retried: number; deadLettered: number });
  const roundTrips = batches.reduce((s, b) => s + b.d1RoundTrips, 0);
  const consumed = batches.reduce((s, b) => s + b.messages, 0);
  const retried = batches.reduce((s, b) => s + b.retried, 0);
  latencies.sort((a, b) => a - b);

  const acceptedPerSec = (requests * EVENTS_PER_REQUEST) / intakeSeconds;
  const landedPerSec = landed / landedSeconds;
  console.log(`\nbench:events — npm run dev on this machine, ${CLIENTS} clients (${PROFILES_PER_CLIENT} profiles each, in turn), ${EVENTS_PER_REQUEST} events a request, one in ${RESEND_EVERY} requests sent twice`);
  console.log(`   baseline GET /v1/me:             ${baselineRps.toFixed(0).padStart(7)} req/s`);
  console.log(`   POST /v1/events:                 ${(requests / intakeSeconds).toFixed(0).padStart(7)} req/s   ${(requests / intakeSeconds / baselineRps).toFixed(2)}x baseline   p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  console.log(`   events accepted (HTTP 202):      ${acceptedPerSec.toFixed(0).padStart(7)} events/s over ${intakeSeconds.toFixed(1)} s (${requests} requests, ${resent} resent)`);
  console.log(`   events landed in D1, sustained:  ${landedPerSec.toFixed(0).padStart(7)} events/s (first send to last landed, ${landedSeconds.toFixed(1)} s)   ${(landedPerSec / acceptedPerSec).toFixed(2)}x accepted`);
  console.log(`   distinct events sent ${sent}, landed ${landed}: ${landed === sent ? "none lost" : `${sent - landed} LOST`}, ${landed > sent ? `${landed - sent} EXTRA` : "none doubled"}`);
  const starts = started.size;
  console.log(`   plays counted ${plays}, profiles × titles started ${starts}: ${plays === starts ? "exact" : "MISMATCH"}`);
  console.log(`   consumed batches ${batches.length}, ${(consumed / Math.max(1, batches.length)).toFixed(1)} messages a batch (resends included), ${retried} retried`);
  console.log(`   D1 round trips per consumed batch: ${(roundTrips / Math.max(1, batches.length)).toFixed(2)} (${roundTrips} for ${batches.length} batches)`);

  const results = benchResults("events");
  results.record({ name: `POST /v1/events (${EVENTS_PER_REQUEST} events each), ${CLIENTS} clients`, value: requests / intakeSeconds, unit: "req/s", baseline: { name: "GET /v1/me", value: baselineRps }, better: "higher" });
  results.record({ name: "POST /v1/events latency p50", value: percentile(latencies, 50), unit: "ms", better: "lower" });
  results.record({ name: "POST /v1/events latency p99", value: percentile(latencies, 99), unit: "ms", better: "lower" });
  results.record({ name: "events accepted (HTTP 202)", value: acceptedPerSec, unit: "events/s", better: "higher" });
  results.record({ name: "events landed in D1, sustained", value: landedPerSec, unit: "events/s", baseline: { name: "events accepted", value: acceptedPerSec }, better: "higher" });
  results.record({ name: `events lost (of ${sent} distinct sent)`, value: Math.max(0, sent - landed), unit: "events", goal: "= 0", better: "lower" });
  results.record({ name: "events double counted", value: Math.max(0, landed - sent), unit: "events", goal: "= 0", better: "lower" });
  results.record({ name: "plays counted", value: plays, unit: "plays", baseline: { name: "profiles × titles started (once a day each)", value: starts }, goal: "ratio = 1", better: "higher" });
  results.record({ name: "D1 round trips per consumed batch", value: roundTrips / Math.max(1, batches.length), unit: "", better: "lower" });
  if (landed !== sent || plays !== starts) process.exitCode = 1;
} finally {
  await platform.stop();
  await rm(work, { recursive: true, force: true });
}
