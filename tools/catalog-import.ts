// `npm run catalog:import -- <file.jsonl>`: sends a big NDJSON catalog file to the admin
// import route in chunks (each request stays under the Workers body limit) and reports
// failures by their line number in the whole file.
import { createReadStream, existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { readDevVar } from "./dev-vars.ts";
import { progressBar } from "./ingest/progress.ts";
import { projectRoot } from "./project.ts";

export const usage = "usage: npm run catalog:import -- <file.jsonl> [--api <url>] [--admin-token <token>] [--chunk-lines 5000]";

export type LineError = { path: string; message: string };
export type Failure = { line: number; errors: LineError[] };
export type ChunkReport = { imported: number; failed: Failure[]; failedCount: number };
export type Chunk = { firstLine: number; lineCount: number; bytes: number; body: string };

class UsageError extends Error {}

/**
 * Groups lines into request bodies of `size` lines. Blank lines are kept (the server skips
 * but counts them), so a chunk's line n is the file's line firstLine + n - 1.
 */
export async function* chunkLines(lines: AsyncIterable<string> | Iterable<string>, size: number): AsyncGenerator<Chunk> {
  let buffer: string[] = [];
  let bytes = 0;
  let firstLine = 1;
  for await (const line of lines) {
    buffer.push(line);
    bytes += Buffer.byteLength(line) + 1;
    if (buffer.length === size) {
      yield { firstLine, lineCount: buffer.length, bytes, body: `${buffer.join("\n")}\n` };
      firstLine += buffer.length;
      buffer = [];
      bytes = 0;
    }
  }
  if (buffer.length > 0) yield { firstLine, lineCount: buffer.length, bytes, body: `${buffer.join("\n")}\n` };
}

/** A chunk's failures with line numbers in the whole file. */
export const toFileLines = (failed: Failure[], firstLine: number): Failure[] => failed.map((f) => ({ ...f, line: f.line + firstLine - 1 }));

export type Totals = { imported: number; failed: Failure[]; failedCount: number; lines: number };

export function addChunk(totals: Totals, chunk: Pick<Chunk, "firstLine" | "lineCount">, report: ChunkReport): Totals {
  return {
    imported: totals.imported + report.imported,
    failed: [...totals.failed, ...toFileLines(report.failed, chunk.firstLine)],
    failedCount: totals.failedCount + report.failedCount,
    lines: totals.lines + chunk.lineCount,
  };
}

const isLocal = (api: string) => /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/.test(api);

async function adminToken(api: string, given: string | undefined): Promise<string> {
  if (given) return given;
  if (process.env.MARQUEE_ADMIN_TOKEN) return process.env.MARQUEE_ADMIN_TOKEN;
  // Against `npm run dev` the local secret is the obvious one; never guess for a remote API.
  if (isLocal(api) && existsSync(path.join(projectRoot, ".dev.vars"))) return readDevVar("ADMIN_TOKEN");
  throw new UsageError("give --admin-token (or set MARQUEE_ADMIN_TOKEN) for a remote API");
}

const RETRIES = 4;

/** Re-sending a chunk is safe (the import upserts by id), so network failures and 5xx are retried. */
export async function postChunk(api: string, token: string, body: string): Promise<ChunkReport> {
  for (let attempt = 1; ; attempt++) {
    let res: Response | undefined;
    let failure: string;
    try {
      res = await fetch(`${api.replace(/\/+$/, "")}/v1/admin/catalog/import`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-ndjson" },
        body,
      });
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as ChunkReport;
      let message = `answered ${res.status}`;
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (parsed.error) message = `${parsed.error.code}: ${parsed.error.message}`;
      } catch {
        // Not our error body (e.g. a proxy's page): the status says enough.
      }
      failure = message;
    } catch (err) {
      const cause = (err as Error).cause;
      failure = `cannot reach ${api}: ${cause instanceof Error ? cause.message : (err as Error).message}`;
    }
    const retryable = !res || res.status >= 500 || res.status === 429;
    if (!retryable || attempt >= RETRIES) throw new Error(failure);
    await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
  }
}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        api: { type: "string", default: process.env.MARQUEE_API ?? "http://localhost:8787" },
        "admin-token": { type: "string" },
        "chunk-lines": { type: "string", default: "5000" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length > 0) throw new UsageError("give exactly one NDJSON file");
  const chunkLinesCount = Number(parsed.values["chunk-lines"]);
  if (!Number.isInteger(chunkLinesCount) || chunkLinesCount < 1) throw new UsageError("--chunk-lines must be a positive whole number");
  return { file, api: parsed.values.api, adminToken: parsed.values["admin-token"], chunkLines: chunkLinesCount };
}

/** Failures printed in full; the rest are counted (the totals say how many). */
const PRINTED_FAILURES = 50;

async function main(): Promise<number> {
  let args;
  try {
    args = parse(process.argv.slice(2));
    if (!existsSync(args.file)) throw new UsageError(`no such file: ${args.file}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`catalog:import: ${err.message}\n${usage}`);
    return 2;
  }
  const token = await adminToken(args.api, args.adminToken).catch((err: unknown) => {
    console.error(`catalog:import: ${(err as Error).message}`);
    return null;
  });
  if (token === null) return 2;

  const size = (await stat(args.file)).size;
  const bar = progressBar("import");
  const started = performance.now();
  let totals: Totals = { imported: 0, failed: [], failedCount: 0, lines: 0 };
  let sent = 0;
  const lines = createInterface({ input: createReadStream(args.file), crlfDelay: Infinity });
  try {
    for await (const chunk of chunkLines(lines, args.chunkLines)) {
      const report = await postChunk(args.api, token, chunk.body);
      totals = addChunk(totals, chunk, report);
      sent += chunk.bytes;
      const rate = totals.imported / ((performance.now() - started) / 1000);
      bar.update(size > 0 ? sent / size : 1, `${totals.imported} imported, ${totals.failedCount} failed, ${Math.round(rate)} titles/s`);
    }
  } catch (err) {
    bar.done("");
    console.error(`catalog:import: stopped after line ${totals.lines} (${totals.imported} imported): ${(err as Error).message}`);
    console.error("Re-running the same file is safe: lines already imported are upserted unchanged.");
    return 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  bar.done(`${totals.lines} lines`);
  for (const f of totals.failed.slice(0, PRINTED_FAILURES)) {
    console.log(`line ${f.line}: ${f.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; ")}`);
  }
  if (totals.failedCount > PRINTED_FAILURES) {
    const more = totals.failed.slice(PRINTED_FAILURES).map((f) => f.line);
    console.log(`… ${totals.failedCount - PRINTED_FAILURES} more failed${more.length ? ` (lines ${more.slice(0, 200).join(", ")}${more.length > 200 ? ", …" : ""})` : ""}`);
  }
  console.log(
    `imported ${totals.imported}, failed ${totals.failedCount} of ${totals.lines} lines in ${elapsed.toFixed(1)} s (${Math.round(totals.imported / Math.max(elapsed, 1e-3))} titles/s)`,
  );
  return totals.failedCount > 0 ? 1 : 0;
}

if (import.meta.main) process.exit(await main());
