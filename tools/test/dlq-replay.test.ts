// The DLQ replay against a fake wrangler (D1 `dead_letters` rows, the queues' ids) and a
// fake Queues HTTP API: a dry run sends and deletes nothing; --apply sends each valid
// watch-event message back to the queue of its profile's watch shard (shardOf, the api's
// function, over production's EVENT_SHARDS = "16") in batches of 100 and deletes exactly
// those rows, only after their batch was accepted; poison stays.
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { shardOf } from "../../lib/watch-shard-of.ts";
import { sortDeadLetters, replayDeadLetters, type DeadLetterRow } from "../dlq-replay.ts";
import { apiConfig } from "../project.ts";
import { FakeCloudflare } from "./fake-wrangler.ts";

const dir = await mkdtemp(path.join(tmpdir(), "marquee-dlq-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const SHARDS = 16;
/** Shard k's queue in the fake account, with a queue id that says which shard it is. */
const shardQueue = (k: number) => `watch-events-production-${k}`;
const queueId = (k: number) => `${k.toString(16).padStart(2, "0")}23456789abcdef0123456789abcdef`;

const now = Date.UTC(2026, 11, 1);
const message = (i: number, profileId = "prf_1") => ({
  v: 1,
  accountId: "acc_1",
  country: "GB",
  receivedAt: now - 60_000,
  event: {
    id: `evt_${String(i).padStart(8, "0")}`,
    type: "heartbeat",
    playbackSessionId: "pbs_0123456789abcdef",
    profileId,
    titleId: "t1",
    positionSec: 30 * i,
    durationSec: 5400,
    clientTime: now - 61_000,
  },
});
const row = (id: string, body: unknown, reason = "retries exhausted"): DeadLetterRow => ({
  id,
  body: typeof body === "string" ? body : JSON.stringify(body),
  reason,
  attempts: 5,
  received_at: now,
});

function setup(rows: DeadLetterRow[], answer: (body: unknown) => Response = () => Response.json({ success: true, errors: [] })) {
  const cf = new FakeCloudflare(() => "marquee-api-production");
  for (let k = 0; k < SHARDS; k++) cf.queues.set(shardQueue(k), { id: queueId(k) });
  const deleted: string[][] = [];
  cf.handle = (args) => {
    if (args[0] !== "d1" || args[1] !== "execute") return undefined;
    const sql = args[args.indexOf("--command") + 1]!;
    if (sql.startsWith("SELECT")) {
      const limit = Number(/LIMIT (\d+)/.exec(sql)![1]);
      return { code: 0, stdout: JSON.stringify([{ results: rows.slice(0, limit), success: true, meta: {} }]), stderr: "" };
    }
    if (sql.startsWith("DELETE")) {
      deleted.push([...sql.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'")));
      return { code: 0, stdout: "", stderr: "" };
    }
    return { code: 1, stdout: "", stderr: `unexpected SQL ${sql}` };
  };
  const sent: { url: string; auth: string | null; body: { messages: { body: unknown; content_type: string }[] } }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body));
    sent.push({ url, auth: new Headers(init.headers).get("Authorization"), body });
    return answer(body);
  }) as typeof globalThis.fetch;
  const options = { env: "production" as const, run: cf.run, fetch, now, log: () => {}, credentials: { apiToken: "tok", accountId: "acct" } };
  return { cf, deleted, sent, options };
}

const rows = [
  row("m1", message(1)),
  row("p1", "{not json", "malformed"),
  row("m2", message(2)),
  row("p2", { v: 1, accountId: "acc_1" }, "event: Required"),
  row("it's", message(3)),
];

describe("sortDeadLetters", () => {
  it("keeps the valid watch-event messages and names what is wrong with the rest", () => {
    const sorted = sortDeadLetters(rows);
    expect(sorted.replayable.map((r) => r.row.id)).toEqual(["m1", "m2", "it's"]);
    expect(sorted.replayable[0]!.message).toEqual(message(1));
    expect(sorted.poison.map((p) => [p.row.id, p.why.split(":")[0]])).toEqual([
      ["p1", "not JSON"],
      ["p2", "country"],
    ]);
  });
});

describe("replayDeadLetters", () => {
  it("a dry run reads from the environment's D1 and sends and deletes nothing", async () => {
    const { cf, deleted, sent, options } = setup(rows);
    const report = await replayDeadLetters({ ...options, apply: false });
    // prf_1 is on shard 15 of 16 (tools/test/watch-shard-of.test.ts).
    expect(report).toEqual({ read: 5, replayable: 3, poison: 2, sent: 0, deleted: 0, queues: { "watch-events-production-15": 3 } });
    expect(cf.commands).toEqual([
      "d1 execute DB --remote --config " + cf.calls[0]!.args[5] + " --env production --yes --json --command SELECT id, body, reason, attempts, received_at FROM dead_letters ORDER BY received_at, id LIMIT 1000",
    ]);
    expect(sent).toEqual([]);
    expect(deleted).toEqual([]);
  });

  it("--apply sends the valid ones to their profile's shard queue as JSON, then deletes exactly those rows", async () => {
    const { deleted, sent, options } = setup(rows);
    const report = await replayDeadLetters({ ...options, apply: true });
    expect(report.sent).toBe(3);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe(`https://api.cloudflare.com/client/v4/accounts/acct/queues/${queueId(15)}/messages/batch`);
    expect(sent[0]!.auth).toBe("Bearer tok");
    expect(sent[0]!.body.messages).toEqual([1, 2, 3].map((i) => ({ body: message(i), content_type: "json" })));
    expect(deleted).toEqual([["m1", "m2", "it's"]]);
  });

  it("sends at most 100 a request and deletes each batch after it was accepted", async () => {
    const many = Array.from({ length: 230 }, (_, i) => row(`m${i}`, message(i)));
    const { deleted, sent, options } = setup(many);
    await replayDeadLetters({ ...options, apply: true });
    expect(sent.map((s) => s.body.messages.length)).toEqual([100, 100, 30]);
    expect(deleted.map((d) => d.length)).toEqual([100, 100, 30]);
    expect(deleted.flat()).toEqual(many.map((r) => r.id));
  });

  it("puts each letter on the shard queue of its profile, in the order read, at most 100 a request", async () => {
    const profiles = Array.from({ length: 40 }, (_, i) => `prf_${i.toString(36).padStart(16, "0")}`);
    const many = Array.from({ length: 400 }, (_, i) => row(`m${i}`, message(i, profiles[i % profiles.length])));
    const { cf, deleted, sent, options } = setup(many);
    const report = await replayDeadLetters({ ...options, apply: true });
    expect(report.sent).toBe(400);

    const expectedShard = (r: DeadLetterRow) => shardOf((JSON.parse(r.body) as ReturnType<typeof message>).event.profileId, SHARDS);
    const byShard = new Map<number, string[]>();
    for (const r of many) byShard.set(expectedShard(r), [...(byShard.get(expectedShard(r)) ?? []), r.id]);
    expect(byShard.size).toBeGreaterThan(8); // 40 profiles spread over most of the 16 shards
    expect(report.queues).toEqual(Object.fromEntries([...byShard].sort(([a], [b]) => a - b).map(([k, ids]) => [shardQueue(k), ids.length])));

    // Every request went to one shard's queue and carried only that shard's profiles.
    const got = new Map<number, string[]>();
    for (const [i, s] of sent.entries()) {
      const k = [...Array(SHARDS).keys()].find((k) => s.url.includes(`/queues/${queueId(k)}/`))!;
      expect(s.body.messages.length).toBeLessThanOrEqual(100);
      for (const m of s.body.messages) expect(shardOf((m.body as ReturnType<typeof message>).event.profileId, SHARDS)).toBe(k);
      // What was deleted after this request is exactly what it sent.
      expect(deleted[i]!.length).toBe(s.body.messages.length);
      got.set(k, [...(got.get(k) ?? []), ...deleted[i]!]);
    }
    expect(got).toEqual(byShard);
    // Each queue's id was looked up once.
    expect(cf.commands.filter((c) => c.startsWith("queues info")).sort()).toEqual([...byShard.keys()].map((k) => `queues info ${shardQueue(k)}`).sort());
  });

  it("refuses a config whose shards do not match EVENT_SHARDS, before reading anything", async () => {
    const config = path.join(dir, "wrangler.toml");
    await copyFile(apiConfig, config);
    const text = await readFile(config, "utf8");
    const at = text.indexOf("[env.production.vars]");
    await writeFile(config, text.slice(0, at) + text.slice(at).replace('EVENT_SHARDS = "16"', 'EVENT_SHARDS = "17"'));
    const { cf, options } = setup(rows);
    await expect(replayDeadLetters({ ...options, config, apply: false })).rejects.toThrow(/EVENT_SHARDS = "17" but no D1 database bound as WATCH_16/);
    expect(cf.commands).toEqual([]);
  });

  it("a refused send deletes nothing of that batch", async () => {
    let calls = 0;
    const many = Array.from({ length: 150 }, (_, i) => row(`m${i}`, message(i)));
    const { deleted, options } = setup(many, () => (++calls === 2 ? Response.json({ success: false, errors: [{ code: 10000, message: "Authentication error" }] }, { status: 403 }) : Response.json({ success: true })));
    await expect(replayDeadLetters({ ...options, apply: true })).rejects.toThrow(/failed \(403\).*Authentication error.*100 sent and deleted before this/);
    expect(deleted.map((d) => d.length)).toEqual([100]);
  });

  it("--apply needs an API token and account id, and uses neither without them", async () => {
    const { sent, deleted, options } = setup(rows);
    await expect(replayDeadLetters({ ...options, apply: true, credentials: { apiToken: undefined, accountId: "acct" } })).rejects.toThrow(/CLOUDFLARE_API_TOKEN/);
    expect(sent).toEqual([]);
    expect(deleted).toEqual([]);
  });
});
