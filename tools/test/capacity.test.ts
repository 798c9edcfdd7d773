// The capacity model (`npm run capacity`) on a FIXED input: a small results object written
// here (not docs/benchmarks/results.json), so the expected loads, the limits crossed and the
// N needed are exact; the fallback to defaults when a figure is missing; the CLI's flags;
// and that the inputs marked "from code" still say what the code says.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchRun, Machine, Results } from "../bench/report.ts";
import { ratioOf, type Figure } from "../bench/results.ts";
import { main, parseCliArgs, UsageError } from "../capacity/cli.ts";
import { capacity, PARAMS, paramKeys, resolveInputs, smallestN, sourceText, type Report } from "../capacity/model.ts";
import { LIMITS, PRICES, SECONDS_PER_MONTH } from "../capacity/published.ts";
import { projectRoot } from "../project.ts";

const machine: Machine = {
  os: "Debian GNU/Linux 12 (bookworm)",
  kernel: "Linux 6.1.0 x64",
  cpu: "AMD EPYC",
  cores: 2,
  ramBytes: 24 * 1024 ** 3,
  node: "v22.18.0",
  wrangler: "4.164.0",
  commit: "0123456789abcdef0123456789abcdef01234567",
  dirty: false,
};

const fig = (bench: string, name: string, value: number, baseline: Figure["baseline"] = null): Figure => ({
  bench,
  name,
  value,
  unit: "",
  baseline,
  ratio: ratioOf(value, baseline),
  better: "lower",
});

const run = (bench: string, date: string, figures: Figure[], o: Partial<BenchRun> = {}): BenchRun => ({
  bench,
  command: `node tools/bench/${bench}.ts`,
  status: "ok",
  exitCode: 0,
  signal: null,
  date,
  durationSec: 60,
  runId: date,
  machine,
  loadavg: { before: 0.5, after: 0.7 },
  figures,
  ...o,
});

/** The fixture: media +0.5 ms CPU over a minimal Worker, api +3 ms, and 2 D1 round trips a consumed batch. */
const FIXTURE: Results = {
  version: 1,
  lastRun: { id: "2026-11-30T10:00:00.000Z", date: "2026-11-30T10:00:00.000Z", benches: ["media", "auth", "events"], durationSec: 300, machine },
  benches: {
    media: run("media", "2026-11-30T10:00:00.000Z", [
      fig("media", "CPU per request, wrk -t1 -c1, as shipped", 6.5, { name: "minimal Worker", value: 6 }),
      fig("media", "throughput, wrk -t1 -c1, as shipped (LOG_LEVEL=info)", 120),
    ]),
    auth: run("auth", "2026-11-29T09:00:00.000Z", [
      fig("auth", "GET /v1/profiles CPU per request (session check + 1 query)", 9, { name: "GET /healthz", value: 6 }),
    ]),
    events: run("events", "2026-11-28T08:00:00.000Z", [fig("events", "D1 round trips per consumed batch", 2)]),
  },
};

const close = (actual: number, expected: number) => expect(actual).toBeCloseTo(expected, 6);
const lineOf = (r: Report, binding: string, what: string) => {
  const section = r.sections.find((s) => s.binding.startsWith(binding));
  const l = section?.lines.find((x) => x.what.trim() === what);
  if (!l) throw new Error(`no line "${what}" in "${binding}"`);
  return l;
};
const needOf = (r: Report, what: string) => {
  const n = r.needs.find((x) => x.what.startsWith(what));
  if (!n) throw new Error(`no need "${what}"`);
  return n;
};

describe("resolveInputs", () => {
  it("takes the bench figures where they exist, and says so with the bench, figure and date", () => {
    const inputs = resolveInputs(FIXTURE);
    expect(inputs.cpuMsMediaExtra.value).toBe(0.5);
    expect(inputs.cpuMsApiExtra.value).toBe(3);
    expect(inputs.watchBatchRoundTrips.value).toBe(2);
    expect(inputs.cpuMsMediaExtra.source).toEqual({
      kind: "measured",
      bench: "media",
      figure: "CPU per request, wrk -t1 -c1, as shipped",
      date: "2026-11-30",
      how: "value − baseline (minimal Worker), same run",
    });
    expect(sourceText(inputs.watchBatchRoundTrips.source)).toBe(
      'measured (bench events, figure "D1 round trips per consumed batch", 2026-11-28; the figure\'s value)',
    );
  });

  it("falls back to the defaults, labelled, when a figure is missing", () => {
    for (const results of [null, { ...FIXTURE, benches: {} }]) {
      const inputs = resolveInputs(results);
      for (const k of paramKeys) {
        expect(inputs[k].value).toBe(PARAMS[k].value);
        expect(["assumed", "from code"]).toContain(inputs[k].source.kind);
      }
      expect(inputs.watchBatchRoundTrips.value).toBe(3);
    expect(sourceText(inputs.watchBatchRoundTrips.source)).toMatch(/^assumed \(workers\/api\/events\/apply-events.ts: /);
      expect(sourceText(inputs.heartbeatSec.source)).toBe("from code (workers/api/playback/policy.ts HEARTBEAT_INTERVAL_SEC)");
    }
  });

  it("ignores a figure it cannot use (no baseline), and uses a failed bench's last good run", () => {
    const noBaseline = { ...FIXTURE, benches: { ...FIXTURE.benches, media: run("media", "2026-11-30T10:00:00.000Z", [fig("media", "CPU per request, wrk -t1 -c1, as shipped", 6.5)]) } };
    expect(resolveInputs(noBaseline).cpuMsMediaExtra).toMatchObject({ value: PARAMS.cpuMsMediaExtra.value, source: { kind: "assumed" } });

    const good = run("events", "2026-11-20T08:00:00.000Z", [fig("events", "D1 round trips per consumed batch", 3)]);
    const failed = run("events", "2026-11-28T08:00:00.000Z", [], { status: "failed", exitCode: 1, lastOk: good });
    const inputs = resolveInputs({ ...FIXTURE, benches: { ...FIXTURE.benches, events: failed } });
    expect(inputs.watchBatchRoundTrips).toMatchObject({ value: 3, source: { kind: "measured", date: "2026-11-20" } });

    const failedNoLastOk = run("events", "2026-11-28T08:00:00.000Z", [fig("events", "D1 round trips per consumed batch", 9)], { status: "failed" });
    expect(resolveInputs({ ...FIXTURE, benches: { events: failedNoLastOk } }).watchBatchRoundTrips.value).toBe(PARAMS.watchBatchRoundTrips.value);
  });

  it("lets --set replace any input, saying what it replaced", () => {
    const inputs = resolveInputs(FIXTURE, { cacheHitRatio: 0.9, cpuMsApiExtra: 1 });
    expect(inputs.cacheHitRatio.value).toBe(0.9);
    expect(sourceText(inputs.cpuMsApiExtra.source)).toMatch(/^set with --set \(instead of: measured \(bench auth/);
  });
});

describe("capacity at 27,000 concurrent viewers, on the fixture", () => {
  // 27,000 makes the arithmetic round: 900 heartbeats/s, 10 viewing sessions/s (45 min).
  const r = capacity(27_000, resolveInputs(FIXTURE));

  it("puts the expected load on the Workers and the Durable Objects", () => {
    close(lineOf(r, "Workers", "media Worker requests").value, 13_500); // 2 segments every 4 s
    close(lineOf(r, "Workers", "api Worker requests").value, 900 + 900 + 450 + 20); // heartbeats, events, QoE, Play + home
    // Watch: 2 shards × 22.5 msg/s, delivered every second (max_batch_timeout 1); qoe: 463.5 msg/s in batches of 100.
    close(lineOf(r, "Workers", "queue consumer invocations").value, 2 + 4.635);
    close(lineOf(r, "Workers", "CPU").value, 13_500 * (1 + 0.5) + 2270 * (1 + 3) + 6.635 * 5);
    close(lineOf(r, "Durable Objects", "requests, all objects").value, 27_000 * (1 / 30 + 1 / 30 + 1 / 60) + 10 * 2);
    close(lineOf(r, "Durable Objects", "requests per object, an average account").value, 2270 / (27_000 / 1.3));
    close(lineOf(r, "Durable Objects", "requests per object, an account with 4 streams").value, 4 * (1 / 30 + 1 / 30 + 1 / 60));
    close(lineOf(r, "R2", "class B reads (edge cache misses)").value, 270);
    close(lineOf(r, "R2", "egress").value, 27_000 * 3e6);
  });

  it("sizes the watch shards by storage, and loads each queue and database", () => {
    // 486,000 members × 20 KB + 45 msg/s × 3 days × 300 B = 13.2 GB: two shards under 80 % of 10 GB.
    expect(needOf(r, "EVENT_SHARDS")).toEqual({
      what: "EVENT_SHARDS (watch queues = watch databases)",
      n: 2,
      because: "set by shard storage (queue messages/s 1, shard D1 queries/s 1, shard storage 2, consumer concurrency 1)",
    });
    close(lineOf(r, "Queues: watch", "messages, all watch queues").value, 45);
    close(lineOf(r, "Queues: watch", "messages per queue").value, 22.5);
    expect(lineOf(r, "Queues: watch", "EVENT_SHARDS")).toMatchObject({ value: 2, limit: 64, crossed: false });
    // A batch a second × 29 statements + 45 position writes + 5 resume reads.
    close(lineOf(r, "D1: watch shards", "queries per shard").value, 29 + 45 + 5);
    // In flight: 1 batch/s × (2 measured round trips × 30 ms + 34 statements × 1 ms).
    close(lineOf(r, "Queues: watch", "consumer invocations in flight per queue").value, 0.094);
    expect(lineOf(r, "Queues: watch", "consumer invocations in flight per queue").limit).toBe(10);
    close(lineOf(r, "D1: watch shards", "storage per shard").value, (486_000 * 20_000 + 45 * 3 * 86_400 * 300) / 2);
    close(lineOf(r, "D1: watch shards", "rows written per shard").value, (45 * 10 + 90 * 2) / 2);
  });

  it("loads DB with every session check and the QoE tables, and flags exactly what crosses", () => {
    const qoeStatements = 450 / 11 + 1350 / 7 + 4.635;
    close(lineOf(r, "D1: DB", "session checks, Play, home, next episodes (reads)").value, 2270 + 10 * 30 + 2);
    close(lineOf(r, "D1: DB", "counter folds, session touches (writes)").value, 2 * 4 + 7.5);
    close(lineOf(r, "D1: DB", "QoE reports and the CMCD timeline (writes)").value, qoeStatements);
    const queries = lineOf(r, "D1: DB", "queries, all of DB today");
    close(queries.value, 2572 + 15.5 + qoeStatements);
    expect(queries).toMatchObject({ limit: 1000, crossed: true });
    close(lineOf(r, "D1: DB", "storage, all of DB today").value, 486_000 * 3000 + 1350 * 2 * 86_400 * 350 + 450 * 3 * 86_400 * 600);
    close(lineOf(r, "Queues: qoe", "messages").value, 463.5);
    expect(r.crossed).toEqual([
      "D1: DB (accounts, catalog, shared counters; the QoE tables today): queries, all of DB today",
      "D1: DB (accounts, catalog, shared counters; the QoE tables today): storage, all of DB today",
    ]);
  });

  it("says what it takes: accounts shards with replicas, QoE out of DB", () => {
    // Reads 2,572 over 3 instances + 15.5 writes = 873 > 800 on one database: two shards (four without replicas).
    expect(needOf(r, "DB: accounts")).toMatchObject({ n: 2, because: expect.stringContaining("4 without") });
    expect(needOf(r, "qoe queues")).toMatchObject({ n: 1, because: "fits one" });
    // 151.6 GB of QoE rows ÷ 8 GB = 19; the reports alone (70 GB) need 9.
    expect(needOf(r, "QoE databases")).toEqual({
      what: "QoE databases, out of DB",
      n: 19,
      because: "set by storage (queries/s 1, storage 19); without the CMCD timeline the reports alone need 9",
    });
    close(lineOf(r, "D1: the account", "databases").value, 2 + 2 + 19);
    close(lineOf(r, "Queues: the account", "queues").value, 2 + 1 + 1);
  });

  it("prices the month from the published prices", () => {
    const month = (perSecond: number) => perSecond * 0.5 * SECONDS_PER_MONTH;
    const item = (name: string) => r.monthly.lines.find((l) => l.item === name)!;
    const requests = month(13_500 + 2270 + 6.635);
    close(item("Workers requests").quantity, requests);
    close(item("Workers requests").dollars, ((requests - 10e6) / 1e6) * 0.3);
    expect(item("egress (Workers, R2)")).toMatchObject({ price: "free", dollars: 0 });
    close(item("egress (Workers, R2)").quantity, month(27_000 * 3e6 / 8) / 1e9);
    close(item("Queues operations").dollars, ((month(45 + 463.5) * 3 - 1e6) / 1e6) * 0.4);
    close(item("R2 class B").dollars, ((month(270) - 10e6) / 1e6) * 0.36);
    expect(item("Workers Paid plan").dollars).toBe(PRICES.workersPaidMonthly);
    close(r.monthly.total, r.monthly.lines.reduce((s, l) => s + l.dollars, 0));
  });
});

describe("the N needed when a rate binds", () => {
  // Heartbeat-like traffic back on the watch queues, storage out of the way.
  const rateOnly = { watchMessagesPerHour: 120, progressFlushMin: 1e9, playShardQueries: 0, watchBytesPerMember: 0, eventRetentionDays: 0 };

  it("splits the shards by D1 query rate (29 statements a batch)", () => {
    const r = capacity(1_000_000, resolveInputs(null, rateOnly));
    // 33,333 msg/s → 333 batches/s × 29 = 9,667 statements/s; ≤ 800 each → 13 shards (9 by messages, 6 by consumers).
    expect(needOf(r, "EVENT_SHARDS")).toMatchObject({
      n: 13,
      because: "set by shard D1 queries/s (queue messages/s 9, shard D1 queries/s 13, shard storage 1, consumer concurrency 6)",
    });
    expect(lineOf(r, "Queues: watch", "messages per queue").crossed).toBe(false);
  });

  it("splits them by queue message rate when statements are few", () => {
    const r = capacity(1_000_000, resolveInputs(null, { ...rateOnly, watchShardStatementsPerBatch: 10 }));
    expect(needOf(r, "EVENT_SHARDS")).toMatchObject({ n: 9, because: expect.stringMatching(/^set by queue messages\/s \(queue messages\/s 9,/) });
    close(lineOf(r, "Queues: watch", "messages per queue").value, 33_333.333333 / 9);
  });

  it("flags the qoe queue above 5,000 messages/s and counts the queues it needs", () => {
    const r = capacity(1_000_000, resolveInputs(null));
    close(lineOf(r, "Queues: qoe", "messages").value, 1_000_000 / 60 + 50_000 / 100);
    expect(r.crossed).toContain("Queues: qoe (one queue today): messages");
    expect(needOf(r, "qoe queues").n).toBe(Math.ceil(17_166.67 / 4000));
  });

  it("keeps everything in one database of each when small", () => {
    const r = capacity(500, resolveInputs(null, { cmcdTimelineSample: 0 }));
    expect(r.crossed).toEqual([]);
    expect(r.needs.map((n) => n.n)).toEqual([1, 1, 1, 0]);
    expect(needOf(r, "QoE databases").because).toBe("none: the QoE tables fit in DB beside the rest");
  });
});

describe("smallestN", () => {
  it("finds the first n that fits", () => {
    expect(smallestN(() => true)).toBe(1);
    expect(smallestN((n) => n >= 37)).toBe(37);
    expect(smallestN((n) => n * 800 >= 9000)).toBe(12);
    expect(smallestN(() => false, 1024)).toBe(Infinity);
  });
});

describe("the CLI", () => {
  it("parses the flags", () => {
    expect(parseCliArgs(["--viewers", "1000000"])).toEqual({ viewers: 1_000_000, results: null, json: false, overrides: {} });
    expect(parseCliArgs(["--viewers=10", "--json", "--results", "x.json", "--set", "cacheHitRatio=0.9", "--set=sessionMin=30"])).toEqual({
      viewers: 10,
      results: "x.json",
      json: true,
      overrides: { cacheHitRatio: 0.9, sessionMin: 30 },
    });
  });

  it.each([
    [[], /--viewers N is required/],
    [["--viewers"], /argument missing|--viewers/],
    [["--viewers", "0"], /positive whole number written in digits \(not "0"\)/],
    [["--viewers", "-5"], /./],
    [["--viewers", "1e6"], /not "1e6"/],
    [["--viewers", "01000"], /not "01000"/],
    [["--viewers", "1,000"], /not "1,000"/],
    [["--viewers", "12.5"], /not "12.5"/],
    [["--viewers", " 12"], /not " 12"/],
    [["--viewers", "9007199254740993"], /not "9007199254740993"/],
    [["--viewers", "10", "--viewer", "3"], /Unknown option '--viewer'/],
    [["--viewers", "10", "extra"], /positional/],
    [["--viewers", "10", "--set", "nope=1"], /key from the inputs list \(not "nope=1"\)/],
    [["--viewers", "10", "--set", "cacheHitRatio"], /not "cacheHitRatio"/],
    [["--viewers", "10", "--set", "cacheHitRatio=abc"], /needs a number ≥ 0 \(not "abc"\)/],
    [["--viewers", "10", "--set", "cacheHitRatio="], /needs a number ≥ 0/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCliArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseCliArgs(argv as string[])).toThrow(message);
  });

  const dir = mkdtemp(path.join(tmpdir(), "capacity-"));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it("exits 2 with the usage on a bad flag, 1 on an unreadable results file, and prints JSON from a results file", async () => {
    const cli = path.join(projectRoot, "tools/capacity/cli.ts");
    const bad = spawnSync(process.execPath, [cli, "--viewers", "1.5"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^capacity: --viewers must be a positive whole number/);
    expect(bad.stderr).toContain("usage: npm run capacity -- --viewers N");

    const missing = spawnSync(process.execPath, [cli, "--viewers", "10", "--results", path.join(await dir, "none.json")], { encoding: "utf8" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read bench results/);

    const file = path.join(await dir, "results.json");
    await writeFile(file, JSON.stringify(FIXTURE));
    const ok = spawnSync(process.execPath, [cli, "--viewers", "27000", "--results", file, "--json"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.stdout) as Report;
    expect(report.viewers).toBe(27_000);
    expect(report.inputs.watchBatchRoundTrips.value).toBe(2);
    expect(report.needs.find((n) => n.what.startsWith("EVENT_SHARDS"))!.n).toBe(2);

    const text = spawnSync(process.execPath, [cli, "--viewers", "27000", "--results", file], { encoding: "utf8" });
    expect(text.stdout).toContain("Marquee capacity at 27,000 concurrent viewers");
    expect(text.stdout).toMatch(/queries, all of DB today .* ◀ CROSSED/);
    expect(text.stdout).toContain('cpuMsApiExtra = 3 ms');
    expect(text.stdout).toContain('measured (bench auth, figure "GET /v1/profiles CPU per request (session check + 1 query)", 2026-11-29');
  });

  it("main() returns 2 without printing a report for a bad flag", () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: string) => void errors.push(m);
    try {
      expect(main(["--viewers", "abc"])).toBe(2);
    } finally {
      console.error = original;
    }
    expect(errors.join("\n")).toContain('not "abc"');
  });
});

describe("the inputs taken from code still match the code", () => {
  const read = (file: string) => readFile(path.join(projectRoot, file), "utf8");

  it("heartbeat, position, report, retention and shard constants", async () => {
    expect(await read("durable-objects/playback-positions.ts")).toContain(`export const POSITION_FLUSH_MS = ${PARAMS.progressFlushMin.value} * 60_000;`);
    const housekeeping = await read("workers/api/cron/housekeeping.ts");
    expect(housekeeping).toContain(`export const WATCH_EVENT_RETENTION_MS = ${PARAMS.eventRetentionDays.value} * 86_400_000;`);
    expect(housekeeping).toContain("export const QOE_REPORT_RETENTION_MS = WATCH_EVENT_RETENTION_MS;");
    expect(PARAMS.qoeRetentionDays.value).toBe(PARAMS.eventRetentionDays.value);
    expect(housekeeping).toContain(`export const CMCD_RETENTION_MS = ${PARAMS.cmcdRetentionDays.value} * 86_400_000;`);
    expect(await read("workers/api/auth/sessions.ts")).toContain(`const TOUCH_EVERY_MS = ${3_600_000 / PARAMS.sessionTouchesPerHour.value};`.replace("3600000", "3_600_000"));
    expect(await read("workers/api/playback/policy.ts")).toContain(`export const HEARTBEAT_INTERVAL_SEC = ${PARAMS.heartbeatSec.value};`);
    expect(await read("web/scripts/player/qoe.ts")).toContain(`export const REPORT_EVERY_MS = ${PARAMS.qoeReportSec.value}_000;`);
    expect(await read("workers/media/qoe/cmcd-sink.ts")).toContain(`export const MAX_RECORDS = ${PARAMS.cmcdRecordsPerMessage.value};`);
  });

  it("the consumers' batch settings and production's CMCD sample", async () => {
    const shards = await read("tools/watch-shards.ts");
    expect(shards).toContain(`{ key: "max_batch_size", value: ${PARAMS.queueBatchSize.value},`);
    expect(shards).toContain(`{ key: "max_batch_timeout", value: ${PARAMS.watchBatchTimeoutSec.value},`);
    expect(shards).toContain(`{ key: "max_concurrency", value: ${PARAMS.watchMaxConcurrency.value},`);
    const api = await read("wrangler.toml");
    const qoe = api.slice(api.indexOf('[[queues.consumers]]\nqueue = "qoe"'));
    expect(qoe).toMatch(new RegExp(`^max_batch_size = ${PARAMS.queueBatchSize.value}$`, "m"));
    expect(qoe).toMatch(new RegExp(`^max_batch_timeout = ${PARAMS.qoeBatchTimeoutSec.value}$`, "m"));
    expect(PARAMS.queueBatchSize.value).toBeLessThanOrEqual(LIMITS.queues.maxBatchMessages);
    const media = await read("workers/media/wrangler.toml");
    expect(media.slice(media.indexOf("[env.production.vars]"))).toMatch(new RegExp(`^CMCD_TIMELINE_SAMPLE = "${PARAMS.cmcdTimelineSample.value}"$`, "m"));
  });
});
