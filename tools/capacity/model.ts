// The capacity model (`npm run capacity`, issue #21 item 5): the load N concurrent viewers
// put on each binding, per second, from what one viewer costs — measured by the benches
// (docs/benchmarks/results.json) where a figure exists, else from the code, else an
// assumption that says so — against Cloudflare's published limits (./published.ts), the
// number of shards, queues and replicas it takes to stay under them, and the monthly bill.
// Pure functions, no I/O: tools/capacity/cli.ts reads the files and prints.
//
// The deployment modelled is the one with watch shards: `EVENT_SHARDS` queues and D1
// databases for watch data (a profile hashes to one), heartbeats kept by the account's
// AccountStreams Durable Object, which writes positions to the viewer's shard; only starts,
// pauses, seeks, stops and completions go through the watch queues.
import type { Figure } from "../bench/results.ts";
import type { BenchRun, Results } from "../bench/report.ts";
import { DEFAULT_SEGMENT_PLAN } from "../ingest/timing.ts";
import { plans } from "../../lib/plans.ts";
import { MAX_SHARDS } from "../../lib/watch-shard-of.ts";
import { billed, LIMITS, PRICES, READ_ON, SECONDS_PER_MONTH, type Allowance } from "./published.ts";

// ---------------------------------------------------------------- inputs

export type Source =
  | { kind: "measured"; bench: string; figure: string; date: string; how: string }
  | { kind: "from code"; where: string }
  | { kind: "assumed"; why: string }
  | { kind: "set"; replaces: Source };

type Measure = {
  bench: string;
  figure: string;
  /** The input from the figure; null when the figure cannot give it (no baseline, not finite). */
  derive: (f: Figure) => number | null;
  how: string;
};

type ParamDef = { label: string; unit: string; value: number; source: Source; measured?: Measure };

const aboveBaseline = (f: Figure) => (f.baseline && Number.isFinite(f.baseline.value) ? Math.max(0, f.value - f.baseline.value) : null);

const code = (where: string): Source => ({ kind: "from code", where });
const assumed = (why: string): Source => ({ kind: "assumed", why });

/** Every input of the model, with its default and where that default comes from. */
export const PARAMS = {
  // -- the audience and the media path
  segmentSec: {
    label: "media segment length",
    unit: "s",
    value: DEFAULT_SEGMENT_PLAN.segmentSec,
    source: code("tools/ingest/timing.ts DEFAULT_SEGMENT_PLAN.segmentSec"),
  },
  mediaTracks: {
    label: "media requests per segment length (a video and an audio segment)",
    unit: "requests",
    value: 2,
    source: code("tools/ingest: audio is its own CMAF track, fetched beside the video"),
  },
  bitrateMbps: { label: "average delivered bitrate", unit: "Mb/s", value: 3, source: assumed("docs/deploy.md's example audience") },
  cacheHitRatio: { label: "edge cache hit ratio for media", unit: "", value: 0.98, source: assumed("no production measurement yet") },
  r2ReadsPerMiss: {
    label: "R2 reads per cache miss",
    unit: "reads",
    value: 1,
    source: assumed("at most one: concurrent misses in an isolate share a read (bench media, thundering herd: 1 read for 50)"),
  },
  catalogHours: { label: "hours of video in the catalog", unit: "h", value: 750, source: assumed("docs/deploy.md: 500 titles of 1.5 h") },
  ladderMbps: { label: "bitrate of a whole ladder (all renditions stored)", unit: "Mb/s", value: 12, source: assumed("docs/deploy.md") },
  meanToPeak: {
    label: "average concurrent viewers ÷ the peak modelled (for monthly volumes)",
    unit: "",
    value: 0.5,
    source: assumed("a daily curve peaking in the evening"),
  },
  hoursPerMemberMonth: { label: "viewing hours per member per month", unit: "h", value: 20, source: assumed("docs/deploy.md's example audience") },

  // -- the api Worker
  heartbeatSec: { label: "lease heartbeat interval", unit: "s", value: 30, source: code("workers/api/playback/policy.ts HEARTBEAT_INTERVAL_SEC") },
  eventsPostSec: {
    label: "POST /v1/events interval",
    unit: "s",
    value: 30,
    source: code("web/scripts/player/events.ts: a batch at every heartbeat"),
  },
  qoeReportSec: { label: "POST /v1/qoe interval while playing", unit: "s", value: 60, source: code("web/scripts/player/qoe.ts REPORT_EVERY_MS") },
  sessionMin: { label: "average viewing session", unit: "min", value: 45, source: assumed("no production measurement yet") },
  apiRequestsPerSession: {
    label: "api requests per viewing session besides the periodic ones (Play, a home page)",
    unit: "requests",
    value: 2,
    source: assumed("a Play and a home page"),
  },
  sessionCheckQueries: {
    label: "D1 queries per api request (the session check)",
    unit: "queries",
    value: 1,
    source: code("workers/api/auth/sessions.ts checkSession: one query, on a read replica (Sessions API)"),
    measured: { bench: "auth", figure: "D1 queries per session check", derive: (f) => f.value, how: "the figure's value" },
  },
  sessionTouchesPerHour: {
    label: "session lastSeenAt writes per viewer-hour (on DB's primary)",
    unit: "writes",
    value: 1,
    source: code("workers/api/auth/sessions.ts TOUCH_EVERY_MS"),
  },
  sessionCheckRowsRead: { label: "D1 rows read per session check", unit: "rows", value: 5, source: assumed("docs/deploy.md's estimate") },
  playDbQueries: { label: "D1 queries on DB per Play (entitlement, plan, title)", unit: "queries", value: 4, source: assumed("") },
  playShardQueries: { label: "D1 queries on the watch shard per Play (resume point)", unit: "queries", value: 1, source: assumed("") },
  playRowsRead: { label: "D1 rows read per Play", unit: "rows", value: 20, source: assumed("") },
  homeDbStatements: {
    label: "D1 statements per home page built",
    unit: "statements",
    value: 26,
    source: assumed("docs/scaling.md: one batch of 26 statements when not cached; every session counted as a miss"),
  },
  homeRowsRead: { label: "D1 rows read per home page built", unit: "rows", value: 300, source: assumed("") },
  cpuMsMinimalWorker: {
    label: "CPU of a request to a minimal Worker",
    unit: "ms",
    value: 1,
    source: assumed("docs/deploy.md: 1 ms for a cached segment"),
  },
  cpuMsMediaExtra: {
    label: "media Worker CPU per request above a minimal Worker",
    unit: "ms",
    value: 0.5,
    source: assumed(""),
    measured: {
      bench: "media",
      figure: "CPU per request, wrk -t1 -c1, as shipped",
      derive: aboveBaseline,
      how: "value − baseline (minimal Worker), same run",
    },
  },
  cpuMsApiExtra: {
    label: "api Worker CPU per request above a minimal Worker",
    unit: "ms",
    value: 2,
    source: assumed("docs/deploy.md: 3 ms an api request"),
    measured: {
      bench: "auth",
      figure: "GET /v1/profiles CPU per request (session check + 1 query)",
      derive: aboveBaseline,
      how: "value − baseline (GET /healthz), same run; local D1 included, an upper bound",
    },
  },
  cpuMsConsumerBatch: { label: "CPU per consumed queue batch", unit: "ms", value: 5, source: assumed("") },

  // -- watch events and the watch shards
  watchMessagesPerHour: {
    label: "watch-event messages per viewer-hour (starts, pauses, seeks, stops, completions)",
    unit: "messages",
    value: 6,
    source: assumed("heartbeats no longer go through the queue"),
  },
  progressFlushMin: {
    label: "AccountStreams writes a playing stream's position to its watch shard every",
    unit: "min",
    value: 5,
    source: code("durable-objects/playback-positions.ts POSITION_FLUSH_MS (never more than once a minute)"),
  },
  progressRowsWritten: {
    label: "D1 rows written per position write",
    unit: "rows",
    value: 2,
    source: code("d1/watch-schema.ts: the watch_progress row and its watch_progress_recent index"),
  },
  queueBatchSize: { label: "consumer max_batch_size (watch and qoe queues)", unit: "messages", value: 100, source: code("tools/watch-shards.ts consumerSettings; wrangler.toml") },
  watchBatchTimeoutSec: { label: "watch consumers' max_batch_timeout", unit: "s", value: 1, source: code("tools/watch-shards.ts consumerSettings") },
  watchMaxConcurrency: { label: "watch consumers' max_concurrency", unit: "invocations", value: 10, source: code("tools/watch-shards.ts consumerSettings") },
  qoeBatchTimeoutSec: { label: "qoe consumer's max_batch_timeout", unit: "s", value: 5, source: code("wrangler.toml [[queues.consumers]] qoe") },
  watchBatchRoundTrips: {
    label: "D1 round trips per consumed watch batch",
    unit: "round trips",
    value: 3,
    source: assumed("workers/api/events/apply-events.ts: the next episodes from DB, the shard's batch(), the fold into DB"),
    measured: { bench: "events", figure: "D1 round trips per consumed batch", derive: (f) => f.value, how: "the figure's value" },
  },
  watchShardStatementsPerBatch: {
    label: "D1 statements on the shard per consumed watch batch",
    unit: "statements",
    value: 29,
    source: assumed("workers/api/events/apply-events.ts for 100 events: 17 six-row inserts, 10 set-based statements, the outbox delete and read"),
    measured: { bench: "events", figure: "D1 statements per consumed batch", derive: (f) => f.value, how: "the figure's value" },
  },
  dbQueriesPerWatchBatch: {
    label: "D1 queries on DB per consumed watch batch (the next episodes of finished ones)",
    unit: "queries",
    value: 1,
    source: code("workers/api/events/apply-events.ts nextEpisodes"),
  },
  d1RoundTripMs: { label: "network time of a D1 round trip from a consumer", unit: "ms", value: 30, source: assumed("") },
  watchRowsWrittenPerEvent: {
    label: "D1 rows written per watch event (rows, index entries, the delete 3 days later)",
    unit: "rows",
    value: 10,
    source: assumed("docs/deploy.md's estimate"),
  },
  watchRowsReadPerEvent: { label: "D1 rows read per watch event by the set-based statements", unit: "rows", value: 20, source: assumed("") },
  counterFoldStatements: {
    label: "D1 statements on DB per consumed watch batch (the counter fold)",
    unit: "statements",
    value: 4,
    source: code("workers/api/events/fold-counters.ts: counter_folds + daily plays, co-watch, viewers"),
  },
  counterRowsWrittenPerEvent: { label: "D1 rows written on DB per watch event (shared counters)", unit: "rows", value: 2, source: assumed("") },
  qoeBatchWallMs: { label: "wall time of a consumed qoe batch", unit: "ms", value: 100, source: assumed("") },
  eventRetentionDays: { label: "watch_events rows kept (deduplication window)", unit: "days", value: 3, source: code("workers/api/cron/housekeeping.ts WATCH_EVENT_RETENTION_MS") },
  watchEventRowBytes: { label: "bytes of a watch_events row with its indexes", unit: "B", value: 300, source: assumed("16 columns, 2 indexes") },
  watchBytesPerMember: { label: "watch data per member (progress, history, recent titles)", unit: "B", value: 20_000, source: assumed("") },
  accountBytesPerMember: { label: "accounts data per member (account, profiles, sessions, list, ratings)", unit: "B", value: 3000, source: assumed("") },

  // -- the AccountStreams Durable Object
  streamsPerAccount: { label: "concurrent streams per watching account", unit: "streams", value: 1.3, source: assumed("") },
  maxStreamsPerAccount: {
    label: "most streams an account can hold",
    unit: "streams",
    value: Math.max(...plans.map((p) => p.maxStreams)),
    source: code("lib/plans.ts maxStreams"),
  },
  doAlarmsPerStreamMin: {
    label: "lease alarms per stream-minute",
    unit: "alarms",
    value: 1,
    source: assumed("docs/scaling.md: the lease alarm about once a minute"),
  },
  doRequestsPerSession: {
    label: "Durable Object requests per viewing session (Play's lease, the home page's live positions)",
    unit: "requests",
    value: 2,
    source: code("workers/api/playback/stream-leases.ts; workers/api/home/home-queries.ts livePositions"),
  },
  doActiveMsPerRequest: { label: "Durable Object active (billed) time per request", unit: "ms", value: 10, source: assumed("docs/deploy.md; it hibernates between requests") },
  doRowsWrittenPerRequest: {
    label: "Durable Object SQLite rows written per request",
    unit: "rows",
    value: 2,
    source: code("durable-objects/account-streams.ts: a heartbeat's lease UPDATE + its index; an events POST's positions upsert + its index"),
  },
  doRowsReadPerRequest: { label: "Durable Object SQLite rows read per request", unit: "rows", value: 2, source: assumed("") },

  // -- quality of experience (the qoe queue, tables in DB today)
  cmcdTimelineSample: {
    label: "share of sessions whose CMCD requests go to the D1 timeline",
    unit: "",
    value: 0.1,
    source: code("workers/media/wrangler.toml [env.production.vars] CMCD_TIMELINE_SAMPLE"),
  },
  cmcdRecordsPerMessage: {
    label: "CMCD records per qoe message",
    unit: "records",
    value: 100,
    source: code("workers/media/qoe/cmcd-sink.ts MAX_RECORDS (full at scale)"),
  },
  cmcdRecordsPerInsert: { label: "CMCD records per insert statement", unit: "records", value: 7, source: code("workers/api/qoe/apply-qoe.ts: 100 parameters ÷ 13 columns") },
  qoeReportsPerInsert: { label: "QoE reports per insert statement", unit: "reports", value: 11, source: code("workers/api/qoe/apply-qoe.ts: 100 parameters ÷ 9 columns") },
  cmcdRowsWrittenPerRecord: {
    label: "D1 rows written per CMCD record",
    unit: "rows",
    value: 8,
    source: assumed("d1/schema.ts cmcd_requests: the row and 3 indexes, written, then deleted by the cron"),
  },
  qoeRowsWrittenPerReport: {
    label: "D1 rows written per QoE report",
    unit: "rows",
    value: 7,
    source: assumed("d1/schema.ts qoe_reports: the row and 2 indexes, written and deleted, + its qoe_minutes fold"),
  },
  cmcdRetentionDays: { label: "cmcd_requests rows kept", unit: "days", value: 2, source: code("workers/api/cron/housekeeping.ts CMCD_RETENTION_MS") },
  cmcdRowBytes: { label: "bytes of a cmcd_requests row with its indexes", unit: "B", value: 350, source: assumed("≈250 B a record (cmcd-sink.ts) + 3 indexes") },
  qoeReportRowBytes: { label: "bytes of a qoe_reports row with its indexes", unit: "B", value: 600, source: assumed("") },
  qoeRetentionDays: { label: "qoe_reports rows kept", unit: "days", value: 3, source: code("workers/api/cron/housekeeping.ts QOE_REPORT_RETENTION_MS") },

  // -- how the limits are applied
  d1QueryMs: {
    label: "average D1 statement time (sets a database's ~1,000 queries/s)",
    unit: "ms",
    value: 1,
    source: assumed("the D1 limits page's example; measure it in staging"),
  },
  d1EffectiveReplicas: {
    label: "D1 instances that share a database's reads with read replication",
    unit: "instances",
    value: 3,
    source: assumed(`of the ${LIMITS.d1.readReplicaRegions} published regions: an audience spread over about half of them`),
  },
  targetUtilisation: {
    label: "share of a limit the needed N plans for (headroom for peaks and uneven shards)",
    unit: "",
    value: 0.8,
    source: assumed(""),
  },
} as const satisfies Record<string, ParamDef>;

export type ParamKey = keyof typeof PARAMS;
export type Input = { key: ParamKey; label: string; unit: string; value: number; source: Source };
export type Inputs = Record<ParamKey, Input>;

export const paramKeys = Object.keys(PARAMS) as ParamKey[];

/** A bench's figures as they are used: its latest run, or its last good one when the latest failed. */
function benchFigures(results: Results | null, bench: string): { figures: Figure[]; date: string } | null {
  const run: BenchRun | undefined = results?.benches?.[bench];
  if (!run) return null;
  if (run.status === "ok") return { figures: run.figures ?? [], date: run.date };
  if (run.lastOk) return { figures: run.lastOk.figures ?? [], date: run.lastOk.date };
  return null;
}

/** The model's inputs: a bench figure where one exists, else the default; `overrides` (--set) win. */
export function resolveInputs(results: Results | null, overrides: Partial<Record<ParamKey, number>> = {}): Inputs {
  const inputs = {} as Inputs;
  for (const key of paramKeys) {
    const def: ParamDef = PARAMS[key];
    let value = def.value;
    let source: Source = def.source;
    if (def.measured) {
      const found = benchFigures(results, def.measured.bench);
      const figure = found?.figures.find((f) => f.name === def.measured!.figure);
      const derived = figure && Number.isFinite(figure.value) ? def.measured.derive(figure) : null;
      if (found && derived !== null && Number.isFinite(derived)) {
        value = derived;
        source = { kind: "measured", bench: def.measured.bench, figure: def.measured.figure, date: found.date.slice(0, 10), how: def.measured.how };
      }
    }
    const override = overrides[key];
    if (override !== undefined) {
      value = override;
      source = { kind: "set", replaces: source };
    }
    inputs[key] = { key, label: def.label, unit: def.unit, value, source };
  }
  return inputs;
}

export function sourceText(s: Source): string {
  switch (s.kind) {
    case "measured":
      return `measured (bench ${s.bench}, figure "${s.figure}", ${s.date}; ${s.how})`;
    case "from code":
      return `from code (${s.where})`;
    case "assumed":
      return s.why ? `assumed (${s.why})` : "assumed";
    case "set":
      return `set with --set (instead of: ${sourceText(s.replaces)})`;
  }
}

// ---------------------------------------------------------------- the model

export type Line = {
  /** What is counted, e.g. "requests". */
  what: string;
  value: number;
  unit: string;
  /** The published limit it is held against (same unit), or null when there is none. */
  limit: number | null;
  /** Where the limit comes from (a docs page), or why there is none. */
  limitNote?: string;
  /** value ÷ limit, or null without a limit. */
  utilisation: number | null;
  crossed: boolean;
  note?: string;
};

export type Section = { binding: string; lines: Line[] };

export type Need = {
  what: string;
  n: number;
  /** Which limit sets it. */
  because: string;
};

export type PriceLine = { item: string; quantity: number; unit: string; price: string; dollars: number; note?: string };

export type Report = {
  viewers: number;
  inputs: Inputs;
  sections: Section[];
  /** Every limit crossed at this many viewers, as "binding: what". */
  crossed: string[];
  needs: Need[];
  monthly: { lines: PriceLine[]; total: number; viewingHours: number };
};

function line(what: string, value: number, unit: string, limit: number | null, extra: { limitNote?: string; note?: string } = {}): Line {
  const utilisation = limit === null ? null : value / limit;
  return { what, value, unit, limit, utilisation, crossed: limit !== null && value > limit, ...extra };
}

/** The smallest n ≥ 1 for which `fits(n)`; `fits` must be monotone (false … false, true …). */
export function smallestN(fits: (n: number) => boolean, max = 10_000_000): number {
  if (fits(1)) return 1;
  let hi = 2;
  while (!fits(hi)) {
    if (hi >= max) return Infinity;
    hi *= 2;
  }
  let lo = hi / 2; // lo does not fit, hi does
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

type Values = Record<ParamKey, number>;

export function capacity(viewers: number, inputs: Inputs): Report {
  const p = Object.fromEntries(paramKeys.map((k) => [k, inputs[k].value])) as Values;
  const N = viewers;
  const util = p.targetUtilisation;
  const d1Qps = LIMITS.d1.queriesPerSecondAt1Ms / p.d1QueryMs;
  const qLimit = LIMITS.queues.messagesPerSecondPerQueue;
  const consumerLimit = LIMITS.queues.concurrentConsumersPerQueue;
  const dbBytes = LIMITS.d1.databaseBytes;
  const day = 86400;

  // ---- per second, at N concurrent viewers (one stream each)
  const sessionsPerSec = N / (p.sessionMin * 60);
  const members = (N * 720 * p.meanToPeak) / p.hoursPerMemberMonth;

  const media = (N * p.mediaTracks) / p.segmentSec;
  const egressBytes = (N * p.bitrateMbps * 1e6) / 8;
  const r2ClassB = media * (1 - p.cacheHitRatio) * p.r2ReadsPerMiss;
  const r2StorageGB = (p.catalogHours * 3600 * p.ladderMbps * 1e6) / 8 / 1e9;

  const heartbeats = N / p.heartbeatSec;
  const eventPosts = N / p.eventsPostSec;
  const qoePosts = N / p.qoeReportSec;
  const sessionRequests = sessionsPerSec * p.apiRequestsPerSession;
  const api = heartbeats + eventPosts + qoePosts + sessionRequests;

  // ---- watch shards: EVENT_SHARDS queues and as many databases, a profile in one of each
  const watchMessages = (N * p.watchMessagesPerHour) / 3600;
  const positionWrites = (N * (60 / Math.max(1, p.progressFlushMin))) / 3600;
  // A consumed batch: its round trips, and every statement it runs on the shard and on DB.
  const watchBatchWallMs = p.watchBatchRoundTrips * p.d1RoundTripMs + (p.watchShardStatementsPerBatch + p.dbQueriesPerWatchBatch + p.counterFoldStatements) * p.d1QueryMs;
  const watchConsumerLimit = Math.min(consumerLimit, p.watchMaxConcurrency);
  const watchStorage = members * p.watchBytesPerMember + watchMessages * p.eventRetentionDays * day * p.watchEventRowBytes;
  const watchShard = (n: number) => {
    const messages = watchMessages / n;
    const batches = consumedBatches(messages, p.queueBatchSize, p.watchBatchTimeoutSec);
    const statements = batches * p.watchShardStatementsPerBatch + positionWrites / n + (sessionsPerSec * p.playShardQueries) / n;
    return { messages, batches, statements, storage: watchStorage / n, consumers: batches * (watchBatchWallMs / 1000) };
  };
  const eventShards = smallestN((n) => {
    const s = watchShard(n);
    return s.messages <= qLimit * util && s.statements <= d1Qps * util && s.storage <= dbBytes * util && s.consumers <= watchConsumerLimit * util;
  });
  const ws = watchShard(eventShards);
  const watchBatchesTotal = ws.batches * eventShards;
  const watchBecause = setBy(eventShards, [
    ["queue messages/s", Math.ceil(watchMessages / (qLimit * util))],
    ["shard D1 queries/s", smallestN((n) => watchShard(n).statements <= d1Qps * util)],
    ["shard storage", Math.max(1, Math.ceil(watchStorage / (dbBytes * util)))],
    ["consumer concurrency", smallestN((n) => watchShard(n).consumers <= watchConsumerLimit * util)],
  ]);

  // ---- QoE: reports (a message each) and CMCD records (MAX_RECORDS a message) on the qoe
  // queue; its consumer writes qoe_reports, qoe_minutes and cmcd_requests in DB today.
  const qoeAt = (sample: number) => {
    const records = media * sample;
    const messages = qoePosts + records / p.cmcdRecordsPerMessage;
    const inserts = qoePosts / p.qoeReportsPerInsert + records / p.cmcdRecordsPerInsert;
    const storage = records * p.cmcdRetentionDays * day * p.cmcdRowBytes + qoePosts * p.qoeRetentionDays * day * p.qoeReportRowBytes;
    return { records, messages, inserts, storage };
  };
  const qoe = qoeAt(p.cmcdTimelineSample);
  const qoeQueueLoad = (n: number) => {
    const batches = consumedBatches(qoe.messages / n, p.queueBatchSize, p.qoeBatchTimeoutSec);
    return { messages: qoe.messages / n, batches, consumers: batches * (p.qoeBatchWallMs / 1000) };
  };
  const qoeQueues = smallestN((n) => qoeQueueLoad(n).messages <= qLimit * util && qoeQueueLoad(n).consumers <= consumerLimit * util);
  const qoeBatchesTotal = qoeQueueLoad(qoeQueues).batches * qoeQueues;
  // The inserts, and one fold into qoe_minutes per consumed batch that carries reports.
  const qoeStatementsFor = (q: { inserts: number }, batches: number) => q.inserts + (qoePosts > 0 ? batches : 0);
  const qoeStatements = qoeStatementsFor(qoe, qoeBatchesTotal);

  // ---- DB (accounts and catalog): every session check, Play's and home's reads, the folds
  // of the shards' counters.
  const dbReads = api * p.sessionCheckQueries + sessionsPerSec * (p.playDbQueries + p.homeDbStatements) + watchBatchesTotal * p.dbQueriesPerWatchBatch;
  const dbWrites = watchBatchesTotal * p.counterFoldStatements + (N * p.sessionTouchesPerHour) / 3600;
  const accountsStorage = members * p.accountBytesPerMember;
  const dbToday = dbReads + dbWrites + qoeStatements;
  const dbStorageToday = accountsStorage + qoe.storage;

  const accountsFitAlone = dbReads + dbWrites <= d1Qps * util && accountsStorage <= dbBytes * util;
  const accountShards = smallestN((n) => dbReads / n / p.d1EffectiveReplicas + dbWrites / n <= d1Qps * util && accountsStorage / n <= dbBytes * util);
  const accountShardsNoReplicas = smallestN((n) => (dbReads + dbWrites) / n <= d1Qps * util && accountsStorage / n <= dbBytes * util);

  // QoE stays in DB while DB holds everything; else it needs databases of its own.
  const qoeFitsInDb = dbToday <= d1Qps * util && dbStorageToday <= dbBytes * util;
  const qoeDbFits = (q: { inserts: number; storage: number }, n: number) => qoeStatementsFor(q, qoeBatchesTotal) / n <= d1Qps * util && q.storage / n <= dbBytes * util;
  const qoeDatabases = qoeFitsInDb ? 0 : smallestN((n) => qoeDbFits(qoe, n));
  const maxSample = largestShare((share) => qoeDbFits(qoeAt(share), 1));

  // ---- Workers: requests and CPU (queue consumer invocations are requests too)
  const consumerInvocations = watchBatchesTotal + qoeBatchesTotal;
  const workersRequests = media + api + consumerInvocations;
  const cpuMs = media * (p.cpuMsMinimalWorker + p.cpuMsMediaExtra) + api * (p.cpuMsMinimalWorker + p.cpuMsApiExtra) + consumerInvocations * p.cpuMsConsumerBatch;

  // ---- AccountStreams: one object per account; each heartbeat, events POST and lease alarm
  // is a request to it, and Play's lease.
  const doPerStream = 1 / p.heartbeatSec + 1 / p.eventsPostSec + p.doAlarmsPerStreamMin / 60;
  const accounts = N / p.streamsPerAccount;
  const doTotal = N * doPerStream + sessionsPerSec * p.doRequestsPerSession;
  const doPerObject = doTotal / Math.max(1, accounts);
  const doBusiest = p.maxStreamsPerAccount * doPerStream;

  // ---- D1 rows, per second
  const rowsReadDb = api * p.sessionCheckQueries * p.sessionCheckRowsRead + sessionsPerSec * (p.playRowsRead + p.homeRowsRead);
  const rowsReadWatch = watchMessages * p.watchRowsReadPerEvent + positionWrites + sessionsPerSec * p.playShardQueries;
  const rowsReadQoe = qoePosts; // the fold reads the batch's reports
  const rowsWrittenDb = watchMessages * p.counterRowsWrittenPerEvent;
  const rowsWrittenWatch = watchMessages * p.watchRowsWrittenPerEvent + positionWrites * p.progressRowsWritten;
  const rowsWrittenQoe = qoePosts * p.qoeRowsWrittenPerReport + qoe.records * p.cmcdRowsWrittenPerRecord;
  const rowsRead = rowsReadDb + rowsReadWatch + rowsReadQoe;
  const rowsWritten = rowsWrittenDb + rowsWrittenWatch + rowsWrittenQoe;
  const d1StorageTotal = accountsStorage + watchStorage + qoe.storage;
  const databases = (accountsFitAlone ? 1 : accountShards) + eventShards + qoeDatabases;
  // The watch queues share one dead-letter queue.
  const queues = eventShards + 1 + qoeQueues;

  // ---- sections
  const wl = LIMITS.workers.requestsPerSecond;
  const wq = qoeQueueLoad(1);
  const sections: Section[] = [
    {
      binding: "Workers",
      lines: [
        line("media Worker requests", media, "req/s", wl, { limitNote: "no limit on Workers Paid" }),
        line("api Worker requests", api, "req/s", wl, {
          note: `heartbeats ${fmt(heartbeats)} + events POSTs ${fmt(eventPosts)} + QoE POSTs ${fmt(qoePosts)} + Play and home ${fmt(sessionRequests)}`,
        }),
        line("queue consumer invocations", consumerInvocations, "req/s", wl),
        line("CPU", cpuMs, "CPU ms/s", null),
      ],
    },
    {
      binding: "Durable Objects: AccountStreams, one per account",
      lines: [
        line("requests, all objects", doTotal, "req/s", null, { note: `${fmt(accounts)} accounts watching` }),
        line("requests per object, an average account", doPerObject, "req/s", LIMITS.durableObjects.requestsPerSecondPerObject),
        line(`requests per object, an account with ${fmt(p.maxStreamsPerAccount)} streams`, doBusiest, "req/s", LIMITS.durableObjects.requestsPerSecondPerObject),
      ],
    },
    {
      binding: `Queues: watch events (EVENT_SHARDS = ${eventShards})`,
      lines: [
        line("EVENT_SHARDS", eventShards, "shards", MAX_SHARDS, { limitNote: "the most lib/watch-shard-of.ts allows" }),
        line("messages, all watch queues", watchMessages, "msg/s", null),
        line("messages per queue", ws.messages, "msg/s", qLimit),
        line("consumer invocations in flight per queue", ws.consumers, "invocations", watchConsumerLimit, {
          limitNote: `max_concurrency; Queues allow ${consumerLimit}`,
          note: `${fmt(ws.batches)} batches/s × ${fmt(watchBatchWallMs)} ms each`,
        }),
      ],
    },
    {
      binding: "Queues: qoe (one queue today)",
      lines: [
        line("messages", qoe.messages, "msg/s", qLimit, { note: `QoE reports ${fmt(qoePosts)} + CMCD messages ${fmt(qoe.records / p.cmcdRecordsPerMessage)}` }),
        line("consumer invocations in flight", wq.consumers, "invocations", consumerLimit),
      ],
    },
    {
      binding: "D1: DB (accounts, catalog, shared counters; the QoE tables today)",
      lines: [
        line("queries, all of DB today", dbToday, "queries/s", d1Qps, { limitNote: `one at a time, ${fmt(p.d1QueryMs)} ms each` }),
        line("  session checks, Play, home, next episodes (reads)", dbReads, "queries/s", null),
        line("  counter folds, session touches (writes)", dbWrites, "queries/s", null),
        line("  QoE reports and the CMCD timeline (writes)", qoeStatements, "queries/s", null),
        line("storage, all of DB today", dbStorageToday, "bytes", dbBytes, {
          note: `accounts ${fmtBytes(accountsStorage)} (${fmt(members)} members) + QoE ${fmtBytes(qoe.storage)}`,
        }),
        line("rows read", rowsReadDb + rowsReadQoe, "rows/s", null),
        line("rows written", rowsWrittenDb + rowsWrittenQoe, "rows/s", null, { note: `QoE ${fmt(rowsWrittenQoe)}` }),
      ],
    },
    {
      binding: `D1: watch shards (EVENT_SHARDS = ${eventShards})`,
      lines: [
        line("queries per shard", ws.statements, "queries/s", d1Qps, {
          note: `${fmt(ws.batches)} consumed batches/s × ${fmt(p.watchShardStatementsPerBatch)} statements + ${fmt(positionWrites / eventShards)} position writes + ${fmt((sessionsPerSec * p.playShardQueries) / eventShards)} resume reads`,
        }),
        line("storage per shard", ws.storage, "bytes", dbBytes),
        line("rows read per shard", rowsReadWatch / eventShards, "rows/s", null),
        line("rows written per shard", rowsWrittenWatch / eventShards, "rows/s", null),
      ],
    },
    {
      binding: "D1: the account",
      lines: [
        line("databases", databases, "databases", LIMITS.d1.databasesPerAccount, { note: "accounts + watch shards + QoE, as needed below" }),
        line("databases bound to the api Worker", databases, "bindings", LIMITS.d1.bindingsPerWorker),
        line("storage, all databases", d1StorageTotal, "bytes", LIMITS.d1.storagePerAccountBytes, { limitNote: "raised on request" }),
        line("rows read, all databases", rowsRead, "rows/s", null),
        line("rows written, all databases", rowsWritten, "rows/s", null),
      ],
    },
    {
      binding: "Queues: the account",
      lines: [line("queues", queues, "queues", LIMITS.queues.queuesPerAccount, { note: "the watch queues, their dead-letter queue, the qoe queues, as needed below" })],
    },
    {
      binding: "R2 and the edge cache",
      lines: [
        line("class B reads (edge cache misses)", r2ClassB, "ops/s", LIMITS.r2.readsPerSecond, { limitNote: "no published rate" }),
        line("class A writes", 0, "ops/s", null, { note: "ingest only: one-off, not per viewer" }),
        line("egress", egressBytes * 8, "bit/s", null, { note: "free on Workers and R2" }),
      ],
    },
  ];

  const crossed: string[] = [];
  for (const s of sections) for (const l of s.lines) if (l.crossed) crossed.push(`${s.binding}: ${l.what.trim()}`);

  const qoeSetBy = setBy(qoeDatabases, [
    ["queries/s", smallestN((n) => qoeStatements / n <= d1Qps * util)],
    ["storage", Math.ceil(qoe.storage / (dbBytes * util))],
  ]);
  const qoeRemedy =
    maxSample === null
      ? `without the CMCD timeline the reports alone need ${smallestN((n) => qoeDbFits(qoeAt(0), n))}`
      : `one would do with CMCD_TIMELINE_SAMPLE ≤ ${fmt(maxSample)}`;
  const qoeBecause = qoeFitsInDb
    ? "none: the QoE tables fit in DB beside the rest"
    : qoeDatabases === 1
      ? "one of its own: DB has no room left for the QoE tables"
      : `${qoeSetBy}; ${qoeRemedy}`;

  const needs: Need[] = [
    {
      what: "EVENT_SHARDS (watch queues = watch databases)",
      n: eventShards,
      because: eventShards > MAX_SHARDS ? `${watchBecause}; above the ${MAX_SHARDS} lib/watch-shard-of.ts allows` : watchBecause,
    },
    {
      what: "DB: accounts databases",
      n: accountsFitAlone ? 1 : accountShards,
      because: accountsFitAlone
        ? "fits one database"
        : accountShards === 1
          ? `one, with read replication (reads over ${fmt(p.d1EffectiveReplicas)} instances)`
          : `shards by account, with read replication (reads over ${fmt(p.d1EffectiveReplicas)} instances; ${accountShardsNoReplicas} without), ${setBy(accountShards, [
              ["queries/s", smallestN((n) => dbReads / n / p.d1EffectiveReplicas + dbWrites / n <= d1Qps * util)],
              ["storage", Math.ceil(accountsStorage / (dbBytes * util))],
            ])}`,
    },
    { what: "qoe queues", n: qoeQueues, because: setBy(qoeQueues, [["queue messages/s", Math.ceil(qoe.messages / (qLimit * util))]]) },
    { what: "QoE databases, out of DB", n: qoeDatabases, because: qoeBecause },
  ];

  // ---- the month
  const month = (perSecond: number) => perSecond * p.meanToPeak * SECONDS_PER_MONTH;
  const doRequests = month(doTotal);
  const doGbS = doRequests * (p.doActiveMsPerRequest / 1000) * PRICES.durableObjectGbAllocated;
  const queueOps = month(watchMessages + qoe.messages) * PRICES.queueOperationsPerMessage;
  const monthly: PriceLine[] = [
    { item: "Workers Paid plan", quantity: 1, unit: "account", price: `$${PRICES.workersPaidMonthly} a month`, dollars: PRICES.workersPaidMonthly },
    priceLine("Workers requests", month(workersRequests), PRICES.workersRequests),
    priceLine("Workers CPU", month(cpuMs), PRICES.workersCpuMs),
    { item: "egress (Workers, R2)", quantity: month(egressBytes) / 1e9, unit: "GB", price: "free", dollars: month(egressBytes) * PRICES.egressPerGB },
    priceLine("Durable Objects requests", doRequests, PRICES.durableObjectRequests),
    priceLine("Durable Objects duration", doGbS, PRICES.durableObjectDurationGbS, `${fmt(p.doActiveMsPerRequest)} ms active a request × ${PRICES.durableObjectGbAllocated * 1000} MB`),
    priceLine("Durable Objects SQLite rows written", doRequests * p.doRowsWrittenPerRequest, PRICES.durableObjectRowsWritten),
    priceLine("Durable Objects SQLite rows read", doRequests * p.doRowsReadPerRequest, PRICES.durableObjectRowsRead),
    priceLine("Queues operations", queueOps, PRICES.queueOperations, `${PRICES.queueOperationsPerMessage} a message (write, read, delete), each under 64 KB`),
    priceLine("D1 rows read", month(rowsRead), PRICES.d1RowsRead),
    priceLine(
      "D1 rows written",
      month(rowsWritten),
      PRICES.d1RowsWritten,
      `QoE ${pct(rowsWrittenQoe, rowsWritten)}, watch shards ${pct(rowsWrittenWatch, rowsWritten)}, counters ${pct(rowsWrittenDb, rowsWritten)}`,
    ),
    priceLine("D1 storage", d1StorageTotal / 1e9, PRICES.d1StorageGbMonth),
    priceLine("R2 class B", month(r2ClassB), PRICES.r2ClassB),
    priceLine("R2 storage", r2StorageGB, PRICES.r2StorageGbMonth, `${fmt(p.catalogHours)} h of video × ${fmt(p.ladderMbps)} Mb/s`),
  ];
  const total = monthly.reduce((sum, l) => sum + l.dollars, 0);

  return {
    viewers: N,
    inputs,
    sections,
    crossed,
    needs,
    monthly: { lines: monthly, total, viewingHours: (N * p.meanToPeak * SECONDS_PER_MONTH) / 3600 },
  };
}

/** Consumed batches per second on one queue: full at scale, else what arrives within max_batch_timeout. */
function consumedBatches(messagesPerSecond: number, batchSize: number, timeoutSec: number): number {
  if (messagesPerSecond <= 0) return 0;
  const fill = Math.max(1, Math.min(batchSize, LIMITS.queues.maxBatchMessages, messagesPerSecond * timeoutSec));
  return messagesPerSecond / fill;
}

function priceLine(item: string, quantity: number, a: Allowance, note?: string): PriceLine {
  const per = a.per === 1 ? a.unit : `${short(a.per)} ${a.unit}`;
  const price = a.price.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  const out: PriceLine = { item, quantity, unit: a.unit, price: `${short(a.included)} ${a.unit} incl., $${price} per ${per}`, dollars: billed(a, quantity) };
  if (note) out.note = note;
  return out;
}

/** 10 M, 25 B, 400,000: a round allowance as the pricing pages write it. */
function short(n: number): string {
  if (n >= 1e9 && n % 1e9 === 0) return `${n / 1e9} B`;
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6} M`;
  return n.toLocaleString("en");
}

/** "set by shard storage (queue messages/s 1, shard storage 62)": the constraint that alone needs the most. */
function setBy(n: number, each: [string, number][]): string {
  if (n <= 1) return "fits one";
  const top = each.reduce((a, b) => (b[1] > a[1] ? b : a));
  return `set by ${top[0]} (${each.map(([what, k]) => `${what} ${k}`).join(", ")})`;
}

/** The largest share in [0, 1] for which `fits` holds (monotone: fits at 0 … up to some share), or null if not even at 0. */
function largestShare(fits: (share: number) => boolean): number | null {
  if (!fits(0)) return null;
  if (fits(1)) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------- numbers for people

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a >= 1e12) return `${(x / 1e12).toFixed(a >= 1e14 ? 0 : 1)} T`;
  if (a >= 1e9) return `${(x / 1e9).toFixed(a >= 1e11 ? 0 : 1)} B`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e8 ? 0 : 1)} M`;
  if (a >= 100 || Number.isInteger(x)) return Math.round(x).toLocaleString("en");
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

export function fmtBytes(b: number): string {
  if (b >= 1e12) return `${fmt(b / 1e12)} TB`;
  if (b >= 1e9) return `${fmt(b / 1e9)} GB`;
  if (b >= 1e6) return `${fmt(b / 1e6)} MB`;
  return `${fmt(b / 1e3)} KB`;
}

const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)} %` : "0 %");

export const PUBLISHED_READ_ON = READ_ON;
