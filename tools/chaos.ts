// `npm run chaos`: many simulated viewers against `npm run dev` with fault injection on in
// both Workers (CHAOS, default one call in ten of every binding failing), each going
// sign in → home → Play → manifests and segments → heartbeats → watch events → stop, as
// a player would, with a player's retries. It prints the steady-state measure: play
// starts that succeed within the client's retries per attempt, segment requests that
// succeed, and watch events landed in D1 against those sent (none lost, none counted
// twice), and exits non-zero if a goal is missed. See docs/resilience.md.
//
//   npm run chaos [-- --viewers 16 --plays 3 --spec "d1=0.1,r2=0.1,do=0.1,queue=0.1,cache=0.1"]
//   npm run chaos -- --url https://marquee-api-staging.example.workers.dev   (staging, CHAOS set there)
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseChaos } from "../lib/bindings/chaos.ts";
import { localD1Number, localWatchNumber } from "./local-d1.ts";
import { startPlatform } from "./platform.ts";
import { simulatedClient } from "../test-support/simulated-clients.ts";

const { values: args } = parseArgs({
  options: {
    viewers: { type: "string", default: "16" },
    plays: { type: "string", default: "3" },
    spec: { type: "string", default: "d1=0.1,r2=0.1,do=0.1,queue=0.1,cache=0.1" },
    url: { type: "string" },
    "keep-state": { type: "boolean", default: false },
  },
});
const VIEWERS = Number(args.viewers);
const PLAYS = Number(args.plays);
const SPEC = args.spec!;
if (!Number.isInteger(VIEWERS) || VIEWERS < 1 || !Number.isInteger(PLAYS) || PLAYS < 1) throw new Error("--viewers and --plays are whole numbers above 0");
parseChaos(SPEC); // a bad spec fails here, with the parser's message, not as faults quietly off

/** A player's patience: this many tries of one request, backing off between them. */
const TRIES = 3;
/** Watch events stay in the player's buffer until accepted: this many sends at most. */
const EVENT_SENDS = 10;
const GOALS = { playStarts: 0.99, segments: 0.999 };

const work = await mkdtemp(path.join(tmpdir(), "marquee-chaos-"));
const stateDir = path.join(work, "state");
const logFile = path.join(work, "dev.log");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Tally = { asked: number; firstTry: number; succeeded: number; tries: number; statuses: Map<string, number> };
const tally = (): Tally => ({ asked: 0, firstTry: 0, succeeded: 0, tries: 0, statuses: new Map() });
const tallies = { signIn: tally(), home: tally(), play: tally(), manifests: tally(), segments: tally(), heartbeats: tally(), events: tally() };

/**
 * One request as a player makes it: retried on a 503, a 429 or a network error, after a
 * jittered backoff (never longer than the server's Retry-After, never over 2 s).
 */
async function tryRequest(t: Tally, url: string, init: RequestInit, ok: (status: number) => boolean, tries = TRIES): Promise<Response | null> {
  t.asked++;
  for (let attempt = 1; attempt <= tries; attempt++) {
    t.tries++;
    let res: Response | null = null;
    let key: string;
    try {
      res = await fetch(url, init);
      key = String(res.status);
    } catch (err) {
      key = `network: ${(err as Error).message}`;
    }
    t.statuses.set(key, (t.statuses.get(key) ?? 0) + 1);
    if (res && ok(res.status)) {
      if (attempt === 1) t.firstTry++;
      t.succeeded++;
      return res;
    }
    const retryable = !res || res.status === 503 || res.status === 429 || res.status >= 500;
    const retryAfter = Number(res?.headers.get("retry-after") ?? "1");
    await res?.arrayBuffer().catch(() => null);
    if (!retryable) return null;
    if (attempt < tries) await sleep(Math.min(2000, retryAfter * 1000, 150 * 2 ** attempt) * (0.5 + Math.random() / 2));
  }
  return null;
}

const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** The URIs of a playlist (segments, or the renditions of a master), absolute. */
function playlistUris(text: string, base: string): string[] {
  const uris: string[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed && !trimmed.startsWith("#")) uris.push(new URL(trimmed, base).toString());
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(trimmed);
    if (map) uris.push(new URL(map[1]!, base).toString());
    const media = /#EXT-X-MEDIA:.*TYPE=AUDIO.*URI="([^"]+)"/.exec(trimmed);
    if (media) uris.push(new URL(media[1]!, base).toString());
  }
  return uris;
}

type Viewer = { email: string; password: string; headers: Record<string, string>; profileId: string; client: Record<string, string> };
const eventsSent = new Map<string, { type: string }>();
const eventsAccepted = new Set<string>();
/** (profile, title) pairs with a start accepted: a profile counts once per title and day. */
const startedPairs = new Set<string>();

async function sendEvents(base: string, v: Viewer, events: Record<string, unknown>[]): Promise<void> {
  for (const e of events) eventsSent.set(e.id as string, { type: e.type as string });
  // The same batch (same ids) again until it is accepted: the consumer counts each id once.
  const res = await tryRequest(tallies.events, `${base}/v1/events`, post({ events }, v.headers), (s) => s === 202, EVENT_SENDS);
  if (!res) return;
  await res.arrayBuffer();
  for (const e of events) eventsAccepted.add(e.id as string);
  for (const e of events) if (e.type === "start") startedPairs.add(`${e.profileId as string}|${e.titleId as string}`);
}

async function watch(base: string, v: Viewer, titleId: string): Promise<void> {
  const signIn = await tryRequest(tallies.signIn, `${base}/v1/auth/login`, post({ email: v.email, password: v.password, deviceName: "chaos viewer" }, v.client), (s) => s === 200);
  if (!signIn) return;
  const { token } = (await signIn.json()) as { token: string };
  const headers = { Authorization: `Bearer ${token}` };
  const viewer = { ...v, headers };
  const home = await tryRequest(tallies.home, `${base}/v1/home?profile=${v.profileId}`, { headers }, (s) => s === 200);
  await home?.arrayBuffer();

  // The same clientSessionId on every try: a start whose answer was lost is not a second stream.
  const clientSessionId = randomUUID();
  const start = await tryRequest(tallies.play, `${base}/v1/playback/sessions`, post({ titleId, profileId: v.profileId, clientSessionId }, headers), (s) => s === 201 || s === 200);
  if (!start) return;
  const session = (await start.json()) as { id: string; media: { hlsUrl: string; hlsMaster: string | null }; heartbeat: { url: string } };
  const masterUrl = new URL(session.media.hlsUrl, base).toString();
  let master = session.media.hlsMaster;
  if (master === null) {
    const res = await tryRequest(tallies.manifests, masterUrl, {}, (s) => s === 200);
    master = res ? await res.text() : null;
  }
  if (master === null) return;
  // The first video rendition and the audio, as a player at its lowest start would fetch them.
  const renditions = playlistUris(master, masterUrl);
  const chosen = [renditions.find((u) => !u.includes("audio")), renditions.find((u) => u.includes("audio"))].filter((u): u is string => !!u);
  const segmentUrls: string[] = [];
  for (const playlistUrl of chosen) {
    const res = await tryRequest(tallies.manifests, playlistUrl, {}, (s) => s === 200);
    if (res) segmentUrls.push(...playlistUris(await res.text(), playlistUrl));
  }

  const events: Record<string, unknown>[] = [];
  const event = (type: "start" | "heartbeat", positionSec: number) => ({
    id: randomUUID(),
    type,
    playbackSessionId: session.id,
    profileId: v.profileId,
    titleId,
    positionSec,
    durationSec: 12,
    clientTime: Date.now(),
  });
  events.push(event("start", 0));
  let position = 0;
  for (const [i, url] of segmentUrls.entries()) {
    const res = await tryRequest(tallies.segments, url, {}, (s) => s === 200);
    await res?.arrayBuffer();
    if (i % 2 === 1) {
      position += 4;
      events.push(event("heartbeat", position));
      const beat = await tryRequest(tallies.heartbeats, new URL(session.heartbeat.url, base).toString(), post({ positionSec: position }, headers), (s) => s === 200);
      await beat?.arrayBuffer();
    }
    if (events.length >= 4) await sendEvents(base, viewer, events.splice(0));
  }
  if (events.length > 0) await sendEvents(base, viewer, events.splice(0));
  const stop = await tryRequest(tally(), `${base}/v1/playback/sessions/${session.id}`, { method: "DELETE", headers }, (s) => s === 204 || s === 200 || s === 404);
  await stop?.arrayBuffer();
}

const rate = (t: Tally) => (t.asked === 0 ? 0 : t.succeeded / t.asked);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const statuses = (t: Tally) => [...t.statuses].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(" ");

const platform = args.url ? null : await startPlatform({ stateDir, logFile, extraArgs: ["--chaos", SPEC] });
const base = args.url ?? platform!.url;
let failed = false;
try {
  // Fault injection must really be on: both Workers say so on their health checks.
  const health = await Promise.all([`${base}/healthz`, `${base}/p/healthz`].map(async (u) => ((await (await fetch(u)).json()) as { chaos?: string }).chaos ?? null));
  console.log(`chaos: api ${health[0] ?? "OFF"}, media ${health[1] ?? "OFF"}`);
  if (health.some((h) => h === null)) throw new Error("fault injection is not on in both Workers (is ENVIRONMENT local or staging, and CHAOS set?)");

  const titles = ((await (await tryRequest(tally(), `${base}/v1/titles?limit=20`, {}, (s) => s === 200, 10))!.json()) as { titles: { id: string; kind: string }[] }).titles;
  const movies = titles.filter((t) => t.kind === "movie").map((t) => t.id);
  if (movies.length === 0) throw new Error("no movie in the catalog to play");

  // Setup (not measured): one account per viewer on Premium, made with generous retries.
  const setup = tally();
  const viewers: Viewer[] = [];
  await Promise.all(
    Array.from({ length: VIEWERS }, async (_, i) => {
      const email = `chaos-${Date.now()}-${i}@example.com`;
      const password = "a long and unusual passphrase for chaos";
      // A sign-up whose answer was lost made the account: the retry's 409 means "sign in".
      // Each viewer is a client of its own: sign-up and sign-in are throttled per client.
      let signedIn = await tryRequest(setup, `${base}/v1/auth/signup`, post({ email, password }, simulatedClient(i)), (s) => s === 201 || s === 409, 10);
      if (signedIn?.status === 409) {
        await signedIn.arrayBuffer();
        signedIn = await tryRequest(setup, `${base}/v1/auth/login`, post({ email, password }, simulatedClient(i)), (s) => s === 200, 10);
      }
      if (!signedIn) throw new Error(`could not sign up viewer ${i}: ${statuses(setup)}`);
      const { token } = (await signedIn.json()) as { token: string };
      const headers = { Authorization: `Bearer ${token}` };
      await (await tryRequest(setup, `${base}/v1/billing/checkout`, post({ planId: "premium" }, headers), (s) => s < 300, 10))?.arrayBuffer();
      const me = (await (await tryRequest(setup, `${base}/v1/me`, { headers }, (s) => s === 200, 10))!.json()) as { profiles: { id: string }[] };
      viewers.push({ email, password, headers, profileId: me.profiles[0]!.id, client: simulatedClient(i) });
    }),
  );
  const playsBefore = platform ? await localD1Number(stateDir, "DB", "SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE country = '*'") : 0;

  console.log(`${VIEWERS} viewers × ${PLAYS} plays, CHAOS="${SPEC}", ${TRIES} tries per request`);
  const started = performance.now();
  await Promise.all(viewers.map(async (v, i) => {
    for (let p = 0; p < PLAYS; p++) await watch(base, v, movies[(i + p) % movies.length]!);
  }));
  const seconds = (performance.now() - started) / 1000;

  // Landing: every accepted event in D1 (the consumer retries what D1 refused, with backoff).
  let landed = 0;
  let plays = 0;
  if (platform) {
    // Heartbeats stop at the account's Durable Object (docs/watch-events.md): the events
    // the Queue carries are the ones that must all land.
    const ids = [...eventsAccepted].filter((id) => eventsSent.get(id)?.type !== "heartbeat");
    const deadline = Date.now() + 240_000;
    for (;;) {
      landed = 0;
      for (let i = 0; i < ids.length; i += 400) {
        landed += await localWatchNumber(stateDir, `SELECT COUNT(*) AS n FROM watch_events WHERE event_id IN (${ids.slice(i, i + 400).map((id) => `'${id}'`).join(",")})`);
      }
      if (landed >= ids.length || Date.now() > deadline) break;
      await sleep(3000);
    }
    plays = (await localD1Number(stateDir, "DB", "SELECT COALESCE(SUM(plays), 0) AS n FROM title_plays_daily WHERE country = '*'")) - playsBefore;
  }

  console.log(`\nsteady state under faults (${seconds.toFixed(1)} s of viewing):`);
  const rows: [string, Tally][] = [["sign in", tallies.signIn], ["home", tallies.home], ["play starts", tallies.play], ["manifests", tallies.manifests], ["segments", tallies.segments], ["heartbeats", tallies.heartbeats], ["event batches", tallies.events]];
  for (const [name, t] of rows) {
    console.log(`  ${name.padEnd(14)} ${String(t.succeeded).padStart(5)} / ${String(t.asked).padEnd(5)} succeeded ${pct(rate(t)).padStart(8)}   first try ${pct(t.asked ? t.firstTry / t.asked : 0).padStart(8)}   (${statuses(t)})`);
  }
  // The queued kinds (not heartbeats): what must land in the watch shards.
  const sent = [...eventsSent.values()].filter((e) => e.type !== "heartbeat").length;
  const accepted = [...eventsAccepted].filter((id) => eventsSent.get(id)?.type !== "heartbeat").length;
  const startsAccepted = startedPairs.size;
  console.log(`  watch events   ${sent} sent, ${accepted} accepted, ${platform ? landed : "n/a"} landed in the watch shards (heartbeats, kept by the account's object, not counted); plays counted ${platform ? plays : "n/a"} for ${startsAccepted} profiles × titles started`);

  const checks: [string, boolean][] = [
    [`play starts succeed within ${TRIES} tries: ${pct(rate(tallies.play))} (goal ≥ ${pct(GOALS.playStarts)})`, rate(tallies.play) >= GOALS.playStarts],
    [`segment requests succeed within ${TRIES} tries: ${pct(rate(tallies.segments))} (goal ≥ ${pct(GOALS.segments)})`, rate(tallies.segments) >= GOALS.segments],
  ];
  if (platform) {
    checks.push([`watch events lost: ${sent - landed} of ${sent} (goal 0)`, landed === sent]);
    checks.push([`watch events counted twice: plays ${plays} for ${startsAccepted} profiles × titles started (goal equal)`, plays === startsAccepted]);
  }
  console.log("");
  for (const [text, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${text}`);
  failed = checks.some(([, ok]) => !ok);
} catch (err) {
  console.error(`chaos: ${(err as Error).message}\n(the platform's log: ${logFile})`);
  failed = true;
} finally {
  await platform?.stop();
  if (!args["keep-state"] && !failed) await rm(work, { recursive: true, force: true });
  else if (platform) console.log(`state and log kept in ${work}`);
}
process.exit(failed ? 1 : 0);
