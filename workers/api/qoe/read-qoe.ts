// Reading QoE back for operators: rollups grouped by title, country, device class or day
// over a time range, a time series for the dashboard, and one CMCD session's timeline.
// Everything reads `qoe_minutes` sums and histogram counts (never raw reports), so a
// month of a busy service is a scan of per-minute rows, not of every report.
import { histogramPercentile, HEIGHT_CLASSES, PLAY_DELAY_BUCKET_COUNT } from "../../../lib/qoe.ts";

export const qoeGroupings = ["title", "country", "device", "day"] as const;
export type QoeGrouping = (typeof qoeGroupings)[number];

/** How far back the CMCD timeline reaches (rows are kept 2 days: cron/housekeeping.ts). */
export const CMCD_TIMELINE_MS = 48 * 3600_000;
export const MAX_TIMELINE_ROWS = 5000;
/** At most this many groups in one answer, most starts first. */
export const MAX_GROUPS = 200;

export type QoeSummary = {
  starts: number;
  /** Views that never showed a frame: left (gave up) or failed (fatal error). */
  exitsBeforeVideo: number;
  startFailures: number;
  playDelayMs: { p50: number | null; p95: number | null };
  /** Stalled time ÷ (playing + stalled time). */
  rebufferRatio: number | null;
  stallsPerHour: number | null;
  avgBitrateKbps: number | null;
  /** Fatal errors ÷ attempts (starts + failures + exits before video). */
  errorRate: number | null;
  /** Playing time per resolution class (lib/qoe.ts HEIGHT_CLASSES), ms. */
  playingMsByHeight: number[];
  playingMs: number;
};

const buckets = Array.from({ length: PLAY_DELAY_BUCKET_COUNT }, (_, i) => `d${i}`);
const heights = HEIGHT_CLASSES.map((_, i) => `ms_h${i}`);
const SUMMED = ["starts", "start_failures", "exits_before_video", "playing_ms", "stall_ms", "stalls", "kbps_ms", "fatal_errors", ...buckets, ...heights];
const sumsSql = SUMMED.map((c) => `SUM(${c}) AS ${c}`).join(", ");

type SumRow = Record<string, number>;

export function summarise(row: SumRow): QoeSummary {
  const n = (k: string) => Number(row[k] ?? 0);
  const counts = buckets.map(n);
  const playing = n("playing_ms");
  const stalled = n("stall_ms");
  const attempts = n("starts") + n("start_failures") + n("exits_before_video");
  return {
    starts: n("starts"),
    exitsBeforeVideo: n("exits_before_video") + n("start_failures"),
    startFailures: n("start_failures"),
    playDelayMs: { p50: histogramPercentile(counts, 50), p95: histogramPercentile(counts, 95) },
    rebufferRatio: playing + stalled > 0 ? stalled / (playing + stalled) : null,
    stallsPerHour: playing > 0 ? n("stalls") / (playing / 3_600_000) : null,
    avgBitrateKbps: playing > 0 ? Math.round(n("kbps_ms") / playing) : null,
    errorRate: attempts > 0 ? n("fatal_errors") / attempts : null,
    playingMsByHeight: heights.map(n),
    playingMs: playing,
  };
}

/** The minutes that overlap [fromMs, toMs): a minute's row covers [minute, minute + 1). */
function minutes(fromMs: number, toMs: number): [first: number, end: number] {
  return [Math.floor(fromMs / 60_000), Math.ceil(toMs / 60_000)];
}

const keyOf: Record<QoeGrouping, string> = {
  title: "q.title_id",
  country: "q.country",
  device: "q.device",
  day: "strftime('%Y-%m-%d', q.minute * 60, 'unixepoch')",
};

export type QoeGroupRow = QoeSummary & { key: string; label: string };

export async function qoeByGroup(db: D1Database, fromMs: number, toMs: number, groupBy: QoeGrouping): Promise<QoeGroupRow[]> {
  const key = keyOf[groupBy];
  const label = groupBy === "title" ? "COALESCE(MAX(t.name), q.title_id)" : key;
  const join = groupBy === "title" ? "LEFT JOIN titles t ON t.id = q.title_id" : "";
  const { results } = await db
    .prepare(
      `SELECT ${key} AS key, ${label} AS label, ${sumsSql.replaceAll("SUM(", "SUM(q.")}
       FROM qoe_minutes q ${join}
       WHERE q.minute >= ?1 AND q.minute < ?2
       GROUP BY ${key} ORDER BY starts DESC, key LIMIT ${MAX_GROUPS}`,
    )
    .bind(...minutes(fromMs, toMs))
    .all<SumRow & { key: string; label: string }>();
  return results.map((r) => ({ key: String(r.key), label: String(r.label), ...summarise(r) }));
}

export type QoePoint = QoeSummary & { at: string };

/** The range in steps of `stepMinutes`, for charts: one point per step that has data. */
export async function qoeSeries(db: D1Database, fromMs: number, toMs: number, stepMinutes: number): Promise<QoePoint[]> {
  const { results } = await db
    .prepare(
      `SELECT (minute / ?3) * ?3 AS step, ${sumsSql}
       FROM qoe_minutes WHERE minute >= ?1 AND minute < ?2
       GROUP BY step ORDER BY step`,
    )
    .bind(...minutes(fromMs, toMs), stepMinutes)
    .all<SumRow & { step: number }>();
  return results.map((r) => ({ at: new Date(r.step * 60_000).toISOString(), ...summarise(r) }));
}

export type CmcdEntry = {
  at: string;
  object: string;
  ot: string | null;
  br: number | null;
  bl: number | null;
  mtp: number | null;
  d: number | null;
  su: boolean;
  bs: boolean;
};

export type CmcdTimeline = { sid: string; streamIds: string[]; assetIds: string[]; requests: CmcdEntry[]; truncated: boolean };

/** One CMCD session (`sid`, or the stream id of the playback token), oldest first, over the last 48 h. */
export async function cmcdTimeline(db: D1Database, sid: string, nowMs: number): Promise<CmcdTimeline | null> {
  const { results } = await db
    .prepare(
      `SELECT at, object, ot, br, bl, mtp, d, su, bs, stream_id, asset_id FROM cmcd_requests
       WHERE (sid = ?1 OR stream_id = ?1) AND at >= ?2 ORDER BY at, id LIMIT ${MAX_TIMELINE_ROWS + 1}`,
    )
    .bind(sid, nowMs - CMCD_TIMELINE_MS)
    .all<{ at: number; object: string; ot: string | null; br: number | null; bl: number | null; mtp: number | null; d: number | null; su: number | null; bs: number | null; stream_id: string; asset_id: string }>();
  if (results.length === 0) return null;
  const rows = results.slice(0, MAX_TIMELINE_ROWS);
  return {
    sid,
    streamIds: [...new Set(rows.map((r) => r.stream_id))],
    assetIds: [...new Set(rows.map((r) => r.asset_id))],
    requests: rows.map((r) => ({ at: new Date(r.at).toISOString(), object: r.object, ot: r.ot, br: r.br, bl: r.bl, mtp: r.mtp, d: r.d, su: r.su === 1, bs: r.bs === 1 })),
    truncated: results.length > MAX_TIMELINE_ROWS,
  };
}
