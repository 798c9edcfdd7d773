// Replays dead watch events: reads D1 `dead_letters` of a deployed environment (wrangler
// d1 execute --remote), sends the rows that are valid watch-event messages back to the
// queue of their profile's watch shard (shardOf(profile id, EVENT_SHARDS), the function the
// api uses; Queues' HTTP publish API), and deletes what was sent. Rows that are not valid
// messages (poison) are listed and left. A dry run unless `--apply`:
//   npm exec -- node tools/dlq-replay.ts --env production [--limit 1000] [--apply]
// Safe to repeat: the consumer counts each event once (docs/watch-events.md) on the shard
// its profile always maps to, so a row sent twice (a crash between the send and the
// delete) changes nothing.
import { queuedWatchMessageSchema, type QueuedWatchMessage } from "../lib/watch-events.ts";
import { shardOf } from "../lib/watch-shard-of.ts";
import { apiConfig } from "./project.ts";
import { configuredShards } from "./watch-shards.ts";
import {
  environmentFlag,
  flagValue,
  jsonOutput,
  mustWrangler,
  outputOf,
  readEnvironment,
  UsageError,
  wrangler,
  type DeployEnvironment,
  type Wrangler,
} from "./wrangler.ts";

export type DeadLetterRow = { id: string; body: string; reason: string; attempts: number; received_at: number };
export type Sorted = { replayable: { row: DeadLetterRow; message: QueuedWatchMessage }[]; poison: { row: DeadLetterRow; why: string }[] };

/** The profile a queued message is for: its event's, or its first event's (the api queues one shard's events a message). */
export const profileOf = (m: QueuedWatchMessage): string => (m.v === 1 ? m.event.profileId : m.events[0]!.profileId);

/** Queues' HTTP publish takes at most 100 messages (and 256 KB) a request. */
const SEND_BATCH = 100;
/** Watch events are deduplicated against `watch_events`, whose rows live three days (cron housekeeping). */
const DEDUP_WINDOW_MS = 3 * 24 * 3600 * 1000;

export function sortDeadLetters(rows: DeadLetterRow[]): Sorted {
  const sorted: Sorted = { replayable: [], poison: [] };
  for (const row of rows) {
    let body: unknown;
    try {
      body = JSON.parse(row.body);
    } catch {
      sorted.poison.push({ row, why: "not JSON" });
      continue;
    }
    const parsed = queuedWatchMessageSchema.safeParse(body);
    if (parsed.success) sorted.replayable.push({ row, message: parsed.data });
    else sorted.poison.push({ row, why: parsed.error.issues.slice(0, 2).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
  }
  return sorted;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export type ReplayOptions = {
  env: DeployEnvironment;
  run: Wrangler;
  apply: boolean;
  limit?: number;
  config?: string;
  /** CLOUDFLARE_API_TOKEN (Queues Edit) and CLOUDFLARE_ACCOUNT_ID, needed only with apply. */
  credentials?: { apiToken: string | undefined; accountId: string | undefined };
  fetch?: typeof fetch;
  now?: number;
  log?: (line: string) => void;
};

export type ReplayReport = {
  read: number;
  replayable: number;
  poison: number;
  sent: number;
  deleted: number;
  /** Shard queue → how many replayable letters belong there (all of them are sent there with --apply). */
  queues: Record<string, number>;
};

function d1(run: Wrangler, config: string, env: DeployEnvironment, sql: string, json: boolean) {
  return mustWrangler(run, ["d1", "execute", "DB", "--remote", "--config", config, "--env", env, "--yes", ...(json ? ["--json"] : []), "--command", sql], {
    capture: true,
  });
}

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayReport> {
  const { env, run } = options;
  const log = options.log ?? console.log;
  const config = options.config ?? apiConfig;
  const limit = options.limit ?? 1000;
  const { shards, problems } = configuredShards(await readEnvironment(config, env), `wrangler.toml [env.${env}]`);
  if (problems.length > 0) throw new Error(problems.join("\n"));

  const read = await d1(run, config, env, `SELECT id, body, reason, attempts, received_at FROM dead_letters ORDER BY received_at, id LIMIT ${Math.max(1, Math.floor(limit))}`, true);
  const rows = (jsonOutput(read.stdout) as { results: DeadLetterRow[] }[])[0]?.results ?? [];
  const { replayable, poison } = sortDeadLetters(rows);
  // Each letter goes back to the shard its profile's data is on, in the order it was read.
  const byQueue = new Map<string, Sorted["replayable"]>();
  for (const letter of replayable) {
    const { queue } = shards[shardOf(profileOf(letter.message), shards.length)]!;
    const letters = byQueue.get(queue) ?? [];
    letters.push(letter);
    byQueue.set(queue, letters);
  }
  const queues = Object.fromEntries([...byQueue].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })).map(([q, letters]) => [q, letters.length]));
  const report: ReplayReport = { read: rows.length, replayable: replayable.length, poison: poison.length, sent: 0, deleted: 0, queues };
  log(`${env}: ${rows.length} dead letters read (limit ${limit}): ${replayable.length} valid watch events, ${poison.length} poison`);
  for (const { row, why } of poison.slice(0, 10)) log(`  poison ${row.id} (${row.reason}): ${why}`);
  const now = options.now ?? Date.now();
  const old = replayable.filter(({ message }) => now - message.receivedAt > DEDUP_WINDOW_MS).length;
  if (old > 0) log(`  ${old} of them were received more than 3 days ago: if one of those was in fact applied once, replaying counts it again`);
  const spread = Object.entries(queues).map(([q, n]) => `${n} to ${q}`).join(", ");
  if (!options.apply || replayable.length === 0) {
    if (!options.apply && replayable.length > 0) log(`dry run: pass --apply to send them back to their shards' queues (${spread})`);
    return report;
  }

  const { apiToken, accountId } = options.credentials ?? {};
  if (!apiToken || !accountId) throw new Error("--apply needs CLOUDFLARE_API_TOKEN (with Queues Edit) and CLOUDFLARE_ACCOUNT_ID in the environment");
  const send = options.fetch ?? fetch;
  for (const [queue, letters] of byQueue) {
    const info = await mustWrangler(run, ["queues", "info", queue], { capture: true });
    const queueId = /Queue ID:\s*([0-9a-f]+)/i.exec(outputOf(info))?.[1];
    if (!queueId) throw new Error(`could not read the id of queue ${queue} from \`wrangler queues info\``);
    for (let i = 0; i < letters.length; i += SEND_BATCH) {
      const chunk = letters.slice(i, i + SEND_BATCH);
      const response = await send(`https://api.cloudflare.com/client/v4/accounts/${accountId}/queues/${queueId}/messages/batch`, {
        method: "POST",
        headers: { Authorization: `Bearer ${apiToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ messages: chunk.map(({ message }) => ({ body: message, content_type: "json" })) }),
      });
      const answer = (await response.json().catch(() => null)) as { success?: boolean; errors?: unknown } | null;
      if (!response.ok || answer?.success !== true) {
        throw new Error(`sending to ${queue} failed (${response.status}): ${JSON.stringify(answer?.errors ?? answer)}; ${report.sent} sent and deleted before this`);
      }
      report.sent += chunk.length;
      // Deleted only once sent: a failure between the two leaves rows to send again, never a loss.
      await d1(run, config, env, `DELETE FROM dead_letters WHERE id IN (${chunk.map(({ row }) => sqlString(row.id)).join(", ")})`, false);
      report.deleted += chunk.length;
    }
  }
  log(`sent ${report.sent} back (${spread}) and deleted them from dead_letters; ${poison.length} poison rows left for inspection`);
  return report;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  try {
    const limit = flagValue(argv, "--limit");
    if (limit !== undefined && !(Number(limit) >= 1)) throw new UsageError("--limit takes a number of rows");
    await replayDeadLetters({
      env: environmentFlag(argv),
      run: wrangler,
      apply: argv.includes("--apply"),
      limit: limit === undefined ? undefined : Number(limit),
      credentials: { apiToken: process.env.CLOUDFLARE_API_TOKEN, accountId: process.env.CLOUDFLARE_ACCOUNT_ID },
    });
  } catch (err) {
    console.error(err instanceof UsageError ? `usage: node tools/dlq-replay.ts --env staging|production [--limit N] [--apply]\n${err.message}` : (err as Error).message);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
