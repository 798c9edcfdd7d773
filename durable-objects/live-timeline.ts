// A live event's timeline in its Durable Object's SQLite: which segment number each upload
// gets, when a segment is complete on every rendition (then it is published, with its
// program date-time), where the broadcaster reconnected (a discontinuity), which uploads
// never came (gaps), and the window of it all that viewers see (lib/live/live-state.ts).
import { LIVE_LIMITS, type Rung } from "../lib/live/ladder.ts";
import type { LiveAudioTrack, LiveState, LiveVideoTrack } from "../lib/live/live-state.ts";
import type { SegmentList } from "../lib/media-index.ts";

/** What the ingest read from a rendition's init segment (workers/api/live/fmp4.ts). */
export type TrackInfo =
  | { kind: "video"; codecs: string; width: number; height: number; timescale: number; sampleDuration: number }
  | { kind: "audio"; codecs: string; channels: number; sampleRate: number; timescale: number; sampleDuration: number };

/** `duration` from the segment's own samples (timescale units); null: the playlist's EXTINF tells. */
export type StoredSegment = { bytes: number; sha256: string; decodeTime: number; samples: number; duration: number | null };

type Cursor = { gen: number; base: number; edge: number; highest: number };

type SegRow = {
  track: string;
  seq: number;
  stored: number;
  bytes: number | null;
  sha: string | null;
  decode_time: number | null;
  samples: number | null;
  duration: number | null;
  pdt_hint_ms: number | null;
};

type TimelineRow = { seq: number; gen: number; run_start: number; pdt_ms: number; duration_ms: number };

export type Published = { seq: number; gaps: string[]; reconnected: boolean };

/** A published number arriving again is a reconnect only this early in ffmpeg's numbering (it restarts at 0). */
const RECONNECT_MAX_N = 2;

export const TIMELINE_TABLES = [
  // The current run of the broadcaster (gen), the number its segment 0 maps to (base), the
  // last published number (edge) and the highest reserved one.
  "CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), gen INTEGER NOT NULL, base INTEGER NOT NULL, edge INTEGER NOT NULL, highest INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS tracks (name TEXT PRIMARY KEY, info TEXT NOT NULL, init_sha TEXT NOT NULL, init_bytes INTEGER NOT NULL)",
  `CREATE TABLE IF NOT EXISTS segs (track TEXT NOT NULL, seq INTEGER NOT NULL, gen INTEGER NOT NULL, stored INTEGER NOT NULL DEFAULT 0,
     bytes INTEGER, sha TEXT, decode_time INTEGER, samples INTEGER, duration INTEGER, pdt_hint_ms INTEGER, PRIMARY KEY (track, seq))`,
  "CREATE TABLE IF NOT EXISTS timeline (seq INTEGER PRIMARY KEY, gen INTEGER NOT NULL, run_start INTEGER NOT NULL, pdt_ms INTEGER NOT NULL, duration_ms REAL NOT NULL)",
  "CREATE TABLE IF NOT EXISTS gaps (track TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (track, seq))",
];

export class LiveTimeline {
  readonly #sql: SqlStorage;
  readonly #ladder: Rung[];

  constructor(sql: SqlStorage, ladder: Rung[]) {
    this.#sql = sql;
    this.#ladder = ladder;
    for (const statement of TIMELINE_TABLES) sql.exec(statement);
    sql.exec("INSERT OR IGNORE INTO cursor (id, gen, base, edge, highest) VALUES (1, 0, 0, -1, -1)");
  }

  cursor(): Cursor {
    return this.#sql.exec<Cursor>("SELECT gen, base, edge, highest FROM cursor").one();
  }

  track(name: string): { info: TrackInfo; initSha: string; initBytes: number } | null {
    const row = this.#sql.exec<{ info: string; init_sha: string; init_bytes: number }>("SELECT info, init_sha, init_bytes FROM tracks WHERE name = ?", name).toArray()[0];
    return row ? { info: JSON.parse(row.info) as TrackInfo, initSha: row.init_sha, initBytes: row.init_bytes } : null;
  }

  /** Whether any segment of the track is published: its init may no longer change. */
  hasPublished(name: string): boolean {
    const { edge } = this.cursor();
    return this.#sql.exec("SELECT 1 FROM segs WHERE track = ? AND seq <= ? AND stored = 1 LIMIT 1", name, edge).toArray().length > 0;
  }

  setTrack(name: string, info: TrackInfo, initSha: string, initBytes: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO tracks (name, info, init_sha, init_bytes) VALUES (?, ?, ?, ?)", name, JSON.stringify(info), initSha, initBytes);
  }

  /**
   * The number segment `n` of the broadcaster's current run is stored under. A number that is
   * already published means the broadcaster started again from 0: a new run begins after
   * the last published segment, and the unpublished rest of the old run is dropped.
   */
  reserve(track: string, n: number): { seq: number; reconnected: boolean; duplicate?: true } | { error: string } {
    let cursor = this.cursor();
    let reconnected = false;
    if (cursor.base + n <= cursor.edge && n > RECONNECT_MAX_N) {
      // Far into the run: not a broadcaster starting over but an upload sent again.
      return { seq: cursor.base + n, reconnected: false, duplicate: true };
    }
    if (cursor.base + n <= cursor.edge) {
      reconnected = true;
      this.#sql.exec("DELETE FROM segs WHERE seq > ?", cursor.edge);
      cursor = { gen: cursor.gen + 1, base: cursor.edge + 1, edge: cursor.edge, highest: cursor.edge };
      this.#sql.exec("UPDATE cursor SET gen = ?, base = ?, highest = ?", cursor.gen, cursor.base, cursor.highest);
    }
    const seq = cursor.base + n;
    // Numbers come one after another: a jump far ahead would leave thousands of gaps.
    if (seq > Math.max(cursor.edge, cursor.highest, cursor.base - 1) + 10) return { error: `segment ${n} is too far ahead of the last one` };
    this.#sql.exec(
      `INSERT INTO segs (track, seq, gen, stored) VALUES (?, ?, ?, 0)
       ON CONFLICT (track, seq) DO UPDATE SET stored = 0, bytes = NULL, sha = NULL, decode_time = NULL, samples = NULL`,
      track,
      seq,
      cursor.gen,
    );
    if (seq > cursor.highest) this.#sql.exec("UPDATE cursor SET highest = ?", seq);
    return { seq, reconnected };
  }

  /** The upload of a reserved segment reached R2. False when it is no longer waited for. */
  stored(track: string, seq: number, segment: StoredSegment): boolean {
    const { edge } = this.cursor();
    if (seq <= edge) return false;
    const changed = this.#sql.exec(
      // The samples' own durations are exact; the playlist's EXTINF (six decimals) only fills in.
      "UPDATE segs SET stored = 1, bytes = ?, sha = ?, decode_time = ?, samples = ?, duration = coalesce(?, duration) WHERE track = ? AND seq = ?",
      segment.bytes,
      segment.sha256,
      segment.decodeTime,
      segment.samples,
      segment.duration,
      track,
      seq,
    ).rowsWritten;
    return changed > 0;
  }

  /** Durations (and program date-times) from the broadcaster's playlist of one rendition. */
  durations(track: string, timescale: number, entries: { n: number; durationSec: number; pdtMs: number | null }[]): void {
    const cursor = this.cursor();
    for (const entry of entries) {
      const seq = cursor.base + entry.n;
      if (seq <= cursor.edge || seq > cursor.highest) continue;
      this.#sql.exec(
        `INSERT INTO segs (track, seq, gen, stored, duration, pdt_hint_ms) VALUES (?, ?, ?, 0, ?, ?)
         ON CONFLICT (track, seq) DO UPDATE SET duration = CASE WHEN segs.stored = 1 AND segs.duration IS NOT NULL THEN segs.duration ELSE excluded.duration END,
           pdt_hint_ms = excluded.pdt_hint_ms`,
        track,
        seq,
        cursor.gen,
        Math.max(1, Math.round(entry.durationSec * timescale)),
        entry.pdtMs,
      );
    }
  }

  /**
   * Publishes every segment now complete on all renditions, in order; a segment still
   * missing on some while a later one is complete everywhere becomes a gap on those.
   */
  advance(nowMs: number): Published[] {
    const published: Published[] = [];
    const names = this.#ladder.map((r) => r.name);
    for (;;) {
      const cursor = this.cursor();
      const seq = cursor.edge + 1;
      if (seq > cursor.highest) break;
      const rows = this.#sql.exec<SegRow>("SELECT * FROM segs WHERE seq = ?", seq).toArray();
      const complete = new Set(rows.filter((r) => r.stored === 1 && r.duration !== null).map((r) => r.track));
      if (complete.size < names.length) {
        const later = this.#sql
          .exec(
            "SELECT seq FROM segs WHERE seq >= ? AND stored = 1 AND duration IS NOT NULL GROUP BY seq HAVING count(*) = ? LIMIT 1",
            seq + LIVE_LIMITS.gapAfterSegments,
            names.length,
          )
          .toArray();
        if (later.length === 0) break;
      }
      published.push(this.#publish(seq, rows, complete, nowMs, names));
    }
    return published;
  }

  #publish(seq: number, rows: SegRow[], complete: Set<string>, nowMs: number, names: string[]): Published {
    const cursor = this.cursor();
    const prev = this.#sql.exec<TimelineRow>("SELECT * FROM timeline WHERE seq = ?", seq - 1).toArray()[0];
    const gen = this.#sql.exec<{ gen: number }>("SELECT gen FROM segs WHERE seq = ? LIMIT 1", seq).toArray()[0]?.gen ?? cursor.gen;
    const runStart = !prev || prev.gen !== gen;
    const durationMs = this.#referenceMs(rows);
    let pdtMs: number;
    if (!runStart) {
      pdtMs = Math.round(prev.pdt_ms + prev.duration_ms);
    } else {
      // A run starts at the broadcaster's own clock when it agrees with ours, so latency
      // measured against it includes the upload; otherwise at when the segment arrived.
      const arrived = nowMs - durationMs;
      const hint = rows.map((r) => r.pdt_hint_ms).find((h): h is number => h !== null);
      pdtMs = hint !== undefined && Math.abs(hint - arrived) <= LIVE_LIMITS.clockSkewMs && hint <= nowMs ? hint : Math.round(arrived);
      if (prev) pdtMs = Math.max(pdtMs, Math.round(prev.pdt_ms + prev.duration_ms));
    }
    this.#sql.exec("INSERT INTO timeline (seq, gen, run_start, pdt_ms, duration_ms) VALUES (?, ?, ?, ?, ?)", seq, gen, runStart ? 1 : 0, pdtMs, durationMs);
    const gaps = names.filter((name) => !complete.has(name));
    for (const track of gaps) this.#sql.exec("INSERT OR IGNORE INTO gaps (track, seq) VALUES (?, ?)", track, seq);
    this.#sql.exec("UPDATE cursor SET edge = ?", seq);
    return { seq, gaps, reconnected: runStart && prev !== undefined };
  }

  /** A segment's wall-clock length: the first video rendition's, else any complete track's, else the usual 2 s. */
  #referenceMs(rows: SegRow[]): number {
    for (const rung of this.#ladder) {
      const row = rows.find((r) => r.track === rung.name && r.duration !== null);
      const info = row ? this.track(rung.name)?.info : undefined;
      if (row && info) return (row.duration! * 1000) / info.timescale;
    }
    return 2000;
  }

  published(): number {
    return this.cursor().edge + 1 - this.firstSeq();
  }

  /** When the event's first segment began (its program date-time), or null before any. */
  startedAtMs(): number | null {
    return this.#sql.exec<{ pdt: number | null }>("SELECT pdt_ms AS pdt FROM timeline ORDER BY seq LIMIT 1").toArray()[0]?.pdt ?? null;
  }

  firstSeq(): number {
    return this.#sql.exec<{ seq: number | null }>("SELECT min(seq) AS seq FROM timeline").one().seq ?? 0;
  }

  lastPublished(): TimelineRow | null {
    return this.#sql.exec<TimelineRow>("SELECT * FROM timeline ORDER BY seq DESC LIMIT 1").toArray()[0] ?? null;
  }

  /** Bits per second the broadcaster sent over the last `windowMs` of published media, all renditions together. */
  ingestBitrate(windowMs: number): number {
    const last = this.lastPublished();
    if (!last) return 0;
    const from = last.pdt_ms + last.duration_ms - windowMs;
    const row = this.#sql
      .exec<{ bytes: number | null; ms: number | null }>(
        `SELECT (SELECT sum(s.bytes) FROM segs s JOIN timeline t ON t.seq = s.seq WHERE t.pdt_ms >= ? AND s.stored = 1) AS bytes,
                (SELECT sum(duration_ms) FROM timeline WHERE pdt_ms >= ?) AS ms`,
        from,
        from,
      )
      .one();
    return row.bytes && row.ms ? Math.round((row.bytes * 8 * 1000) / row.ms) : 0;
  }

  /**
   * The published timeline from `fromSeq` on (the DVR window, or everything for the
   * recording), as the tracks and runs live.json and index.json describe.
   */
  view(fromSeq: number): TimelineView | null {
    const timeline = this.#sql.exec<TimelineRow>("SELECT * FROM timeline WHERE seq >= ? ORDER BY seq", fromSeq).toArray();
    if (timeline.length === 0) return null;
    const first = timeline[0]!;
    const runStarts = timeline.filter((t, i) => i === 0 || t.run_start === 1);
    const discontinuitySequence = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM timeline WHERE run_start = 1 AND seq <= ?", first.seq).one().n - 1;
    const video: LiveVideoTrack[] = [];
    const audio: LiveAudioTrack[] = [];
    for (const rung of this.#ladder) {
      const track = this.track(rung.name);
      if (!track) continue;
      const rows = new Map(
        this.#sql.exec<SegRow>("SELECT * FROM segs WHERE track = ? AND seq >= ? AND seq <= ?", rung.name, first.seq, timeline.at(-1)!.seq).toArray().map((r) => [r.seq, r]),
      );
      const gapSet = new Set(this.#sql.exec<{ seq: number }>("SELECT seq FROM gaps WHERE track = ? AND seq >= ?", rung.name, first.seq).toArray().map((g) => g.seq));
      const { timescale } = track.info;
      const durations: number[] = [];
      const bytes: number[] = [];
      const gaps: number[] = [];
      const runs: { startNumber: number; startTime: number }[] = [];
      let next = 0;
      let frames = 0;
      let framesTime = 0;
      for (const t of timeline) {
        const row = rows.get(t.seq);
        const isGap = gapSet.has(t.seq) || !row || row.stored !== 1;
        const duration = row?.duration ?? Math.max(1, Math.round((t.duration_ms * timescale) / 1000));
        if (t === first || t.run_start === 1) runs.push({ startNumber: t.seq, startTime: !isGap && row?.decode_time != null ? row.decode_time : next });
        durations.push(duration);
        bytes.push(isGap ? 0 : row!.bytes!);
        if (isGap) gaps.push(t.seq);
        else {
          frames += row!.samples ?? 0;
          framesTime += duration;
        }
        next = (!isGap && row?.decode_time != null ? row.decode_time : next) + duration;
      }
      const segments: SegmentList = { timescale, startNumber: first.seq, durations, bytes };
      if (runs.length > 1 || runs[0]!.startTime !== 0) segments.runs = runs;
      if (gaps.length > 0) segments.gaps = gaps;
      const { peak, average } = bandwidth(durations, bytes, timescale, rung.bitrateKbps * 1000);
      const base = { id: rung.name, codecs: track.info.codecs, bandwidth: peak, averageBandwidth: average, segments, init: { bytes: track.initBytes, sha256: track.initSha } };
      if (track.info.kind === "video") {
        const frameRate = framesTime > 0 ? Math.round(((frames * timescale) / framesTime) * 1000) / 1000 : 30;
        video.push({ ...base, width: track.info.width, height: track.info.height, frameRate });
      } else {
        audio.push({ ...base, lang: "und", name: audio.length === 0 ? "Audio" : `Audio ${audio.length + 1}`, channels: track.info.channels, sampleRate: track.info.sampleRate, default: audio.length === 0 });
      }
    }
    video.sort((a, b) => a.height - b.height || a.bandwidth - b.bandwidth);
    // Over the whole event, not the window: a playlist's target duration must never change.
    const longestMs = this.#sql.exec<{ ms: number }>("SELECT max(duration_ms) AS ms FROM timeline").one().ms;
    return {
      firstSeq: first.seq,
      lastSeq: timeline.at(-1)!.seq,
      durationMs: timeline.reduce((sum, t) => sum + t.duration_ms, 0),
      targetDurationSec: Math.max(1, Math.ceil(longestMs / 1000 - 1e-6)),
      discontinuitySequence: Math.max(0, discontinuitySequence),
      runStartsMs: runStarts.map((t, i) => ({ startNumber: t.seq, pdtMs: t.pdt_ms, ...(i === 0 ? { originPdtMs: this.#runOrigin(t.seq).pdt_ms } : {}) })),
      video,
      audio,
    };
  }

  /** The start of the run `seq` is in. */
  #runOrigin(seq: number): TimelineRow {
    return this.#sql.exec<TimelineRow>("SELECT * FROM timeline WHERE run_start = 1 AND seq <= ? ORDER BY seq DESC LIMIT 1", seq).one();
  }

  /** The first number of the window: the oldest segment that ends within `windowSec` of the newest's end. */
  windowStart(windowSec: number): number {
    const last = this.lastPublished();
    if (!last) return 0;
    const from = last.pdt_ms + last.duration_ms - windowSec * 1000;
    return this.#sql.exec<{ seq: number | null }>("SELECT min(seq) AS seq FROM timeline WHERE pdt_ms + duration_ms > ?", from).one().seq ?? last.seq;
  }

  /** Every stored file of the published timeline (inits and segments), for the recording's index. */
  files(): { path: string; bytes: number; sha256: string }[] {
    const inits = this.#sql.exec<{ name: string; init_sha: string; init_bytes: number }>("SELECT name, init_sha, init_bytes FROM tracks").toArray();
    const { edge } = this.cursor();
    const segs = this.#sql.exec<{ track: string; seq: number; bytes: number; sha: string }>(
      "SELECT s.track, s.seq, s.bytes, s.sha FROM segs s JOIN timeline t ON t.seq = s.seq WHERE s.stored = 1 AND s.seq <= ? AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.track = s.track AND g.seq = s.seq) ORDER BY s.track, s.seq",
      edge,
    ).toArray();
    return [
      ...inits.map((i) => ({ path: `${i.name}/init.m4s`, bytes: i.init_bytes, sha256: i.init_sha })),
      ...segs.map((s) => ({ path: `${s.track}/${s.seq}.m4s`, bytes: s.bytes, sha256: s.sha })),
    ];
  }
}

export type TimelineView = {
  firstSeq: number;
  lastSeq: number;
  durationMs: number;
  targetDurationSec: number;
  discontinuitySequence: number;
  runStartsMs: LiveState["runStartsMs"];
  video: LiveVideoTrack[];
  audio: LiveAudioTrack[];
};

/** Peak (over any one segment) and mean bits per second; before any media, the ladder's figure. */
function bandwidth(durations: number[], bytes: number[], timescale: number, fallback: number): { peak: number; average: number } {
  let peak = 0;
  let totalBytes = 0;
  let totalTime = 0;
  durations.forEach((d, i) => {
    const b = bytes[i]!;
    if (b === 0) return;
    peak = Math.max(peak, (b * 8 * timescale) / d);
    totalBytes += b;
    totalTime += d;
  });
  if (totalTime === 0) return { peak: fallback, average: fallback };
  return { peak: Math.max(1, Math.ceil(peak)), average: Math.max(1, Math.round((totalBytes * 8 * timescale) / totalTime)) };
}
