// Applying a batch of `qoe` messages to D1 in ONE `batch()` (one round trip, one
// transaction): players' reports go into `qoe_reports` (ignored when their id is already
// there, so at-least-once delivery and client resends count once), then one set-based
// statement folds only the rows this batch took in into the per-minute rollups
// `qoe_minutes`; CMCD records (a message holds a media isolate's second of them) go
// into `cmcd_requests`, ignored when already there.
import { heightClass, HEIGHT_CLASSES, playDelayBucket, PLAY_DELAY_BUCKET_COUNT, type CmcdMessage, type CmcdRecord, type QoeMessage, type QoeReportMessage } from "../../../lib/qoe.ts";

/** D1 refuses a statement with more than 100 bound parameters. */
const MAX_PARAMS = 100;

/** What the fold reads of a report: its deltas, with the histogram bucket and height classes worked out here. */
export type FoldedReport = {
  start: 0 | 1;
  failed: 0 | 1;
  left: 0 | 1;
  delay: number;
  bucket: number;
  page: number | null;
  playingMs: number;
  stalls: number;
  stallMs: number;
  switches: number;
  kbpsMs: number;
  h: number[];
  dropped: number;
  fatal: number;
  recovered: number;
};

export function foldedReport(m: QoeReportMessage): FoldedReport {
  const r = m.report;
  const h: number[] = HEIGHT_CLASSES.map(() => 0);
  for (const [height, ms] of Object.entries(r.heightMs)) h[heightClass(Number(height))]! += ms;
  return {
    start: r.firstFrame ? 1 : 0,
    failed: !r.firstFrame && r.exit === "failed" ? 1 : 0,
    left: !r.firstFrame && r.exit === "left" ? 1 : 0,
    delay: r.firstFrame?.playDelayMs ?? 0,
    bucket: r.firstFrame ? playDelayBucket(r.firstFrame.playDelayMs) : -1,
    page: r.firstFrame?.pageToFirstFrameMs ?? null,
    playingMs: r.playingMs,
    stalls: r.stalls,
    stallMs: r.stallMs,
    switches: r.switches,
    kbpsMs: r.kbpsMs,
    h,
    dropped: r.droppedFrames,
    fatal: r.fatalErrors,
    recovered: r.recoveredErrors,
  };
}

const REPORT_COLUMNS = ["id", "batch_tag", "received_at", "minute", "title_id", "country", "device", "plan_height", "body"] as const;
const CMCD_COLUMNS = ["id", "sid", "stream_id", "asset_id", "at", "object", "ot", "br", "bl", "mtp", "d", "su", "bs"] as const;

const j = (path: string) => `json_extract(body, '$.${path}')`;
const sums: [column: string, expression: string][] = [
  ["reports", "COUNT(*)"],
  ["starts", `SUM(${j("start")})`],
  ["start_failures", `SUM(${j("failed")})`],
  ["exits_before_video", `SUM(${j("left")})`],
  ["play_delay_ms_sum", `SUM(${j("delay")})`],
  ...Array.from({ length: PLAY_DELAY_BUCKET_COUNT }, (_, i): [string, string] => [`d${i}`, `SUM(${j("bucket")} = ${i})`]),
  ["page_delay_ms_sum", `COALESCE(SUM(${j("page")}), 0)`],
  ["page_delays", `COUNT(${j("page")})`],
  ["playing_ms", `SUM(${j("playingMs")})`],
  ["stalls", `SUM(${j("stalls")})`],
  ["stall_ms", `SUM(${j("stallMs")})`],
  ["switches", `SUM(${j("switches")})`],
  ["kbps_ms", `SUM(${j("kbpsMs")})`],
  ...HEIGHT_CLASSES.map((_, i): [string, string] => [`ms_h${i}`, `SUM(${j(`h[${i}]`)})`]),
  ["dropped_frames", `SUM(${j("dropped")})`],
  ["fatal_errors", `SUM(${j("fatal")})`],
  ["recovered_errors", `SUM(${j("recovered")})`],
];
const KEY = ["minute", "title_id", "country", "device", "plan_height"];

/** Folds the reports one batch inserted (?1, its tag) into the rollups, adding to what a minute already holds. */
export const FOLD_STATEMENT = `INSERT INTO qoe_minutes (${[...KEY, ...sums.map(([c]) => c)].join(", ")})
  SELECT ${[...KEY, ...sums.map(([, e]) => e)].join(", ")}
  FROM qoe_reports WHERE batch_tag = ?1
  GROUP BY ${KEY.join(", ")}
  ON CONFLICT (${KEY.join(", ")}) DO UPDATE SET ${sums.map(([c]) => `${c} = ${c} + excluded.${c}`).join(", ")}`;

function inserts(db: D1Database, table: string, columns: readonly string[], rows: (string | number | null)[][]): D1PreparedStatement[] {
  const perStatement = Math.floor(MAX_PARAMS / columns.length);
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const placeholders = chunk.map(() => `(${columns.map(() => "?").join(", ")})`).join(", ");
    statements.push(db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${placeholders} ON CONFLICT (id) DO NOTHING`).bind(...chunk.flat()));
  }
  return statements;
}

const flag = (b: boolean | undefined) => (b === undefined ? null : b ? 1 : 0);

export function cmcdRow(m: CmcdRecord): (string | number | null)[] {
  const c = m.cmcd;
  return [m.id, c.sid ?? null, m.streamId, m.assetId, m.receivedAt, m.object, c.ot ?? null, c.br ?? null, c.bl ?? null, c.mtp ?? null, c.d ?? null, flag(c.su), flag(c.bs)];
}

/** The statements for one batch, in order; empty when there is nothing to write. */
export function qoeStatements(db: D1Database, messages: QoeMessage[], batchTag: string): D1PreparedStatement[] {
  const reports = messages.filter((m): m is QoeReportMessage => m.kind === "report");
  const cmcd = messages.filter((m): m is CmcdMessage => m.kind === "cmcd").flatMap((m) => m.records);
  const statements: D1PreparedStatement[] = [];
  if (reports.length > 0) {
    const rows = reports.map((m) => [
      m.report.id,
      batchTag,
      m.receivedAt,
      Math.floor(m.receivedAt / 60_000),
      m.report.titleId,
      m.country,
      m.device,
      m.report.planHeight,
      JSON.stringify(foldedReport(m)),
    ]);
    statements.push(...inserts(db, "qoe_reports", REPORT_COLUMNS, rows), db.prepare(FOLD_STATEMENT).bind(batchTag));
  }
  if (cmcd.length > 0) statements.push(...inserts(db, "cmcd_requests", CMCD_COLUMNS, cmcd.map(cmcdRow)));
  return statements;
}

/** One D1 round trip for the whole batch (or none when it is empty). */
export async function applyQoe(db: D1Database, messages: QoeMessage[]): Promise<number> {
  const statements = qoeStatements(db, messages, crypto.randomUUID());
  if (statements.length === 0) return 0;
  await db.batch(statements);
  return 1;
}
