// `LiveEvent`: one Durable Object per live event, the single writer of its timeline. The
// ingest route asks it before any byte of an upload is stored (the token, the rendition,
// the segment's number), tells it what reached R2, and hands it the broadcaster's
// playlists; each segment complete on every rendition is published into
// `assets/{assetId}/live.json`, which is all the media Worker reads. The event ends when the
// operator says so or when the broadcaster has been silent too long; then its recording
// becomes the asset's index.json, and D1 learns the title is an on-demand title.
import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { and, eq, inArray } from "drizzle-orm";
import { apiBindingPlan } from "../lib/bindings/api-bindings.ts";
import { guardEnv } from "../lib/bindings/guard.ts";
import { constantTimeEqual } from "../lib/constant-time.ts";
import { LIVE_LIMITS, type Rung } from "../lib/live/ladder.ts";
import type { LiveState } from "../lib/live/live-state.ts";
import { log } from "../lib/log.ts";
import { renditionIndexSchema, resolutionClass, type RenditionIndex } from "../lib/media-index.ts";
import { mediaKeys } from "../lib/media-layout.ts";
import { bumpCatalogVersion } from "../d1/catalog-version.ts";
import { assets, liveEvents, titles } from "../d1/schema.ts";
import { LiveTimeline, type StoredSegment, type TrackInfo } from "./live-timeline.ts";

export type LiveConfig = {
  liveId: string;
  assetId: string;
  titleId: string;
  name: string;
  /** Lowercase hex SHA-256 of the ingest token: the token itself is never stored. */
  tokenHash: string;
  ladder: Rung[];
  dvrWindowSec: number;
  idleTimeoutSec: number;
  createdAtMs: number;
};

export type LiveStateName = "waiting" | "live" | "ended";

export type LiveStatus = {
  liveId: string;
  titleId: string;
  assetId: string;
  name: string;
  state: LiveStateName;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  endReason: "operator" | "idle" | null;
  /** The newest published segment's arrival (its program date-time plus duration). */
  lastSegmentAt: string | null;
  /** Published segments (each on every rendition, or a gap). */
  segments: number;
  reconnects: number;
  ingestBitrateKbps: number;
  ladder: Rung[];
  renditions: { name: string; kind: "video" | "audio" | null; codecs: string | null; width: number | null; height: number | null }[];
  dvrWindowSec: number;
  idleTimeoutSec: number;
  /** `ready`: the recording plays on demand; `pending`: still being written (retried); `none`: nothing was broadcast. */
  recording: "pending" | "ready" | "none" | null;
  errors: { at: string; message: string }[];
};

/** Refusals are plain results: an exception crossing RPC keeps only its message. */
export type Refusal = { ok: false; code: "NOT_FOUND" | "UNAUTHORIZED" | "GONE" | "CONFLICT" | "BAD_REQUEST"; message: string };
export type Granted<T> = ({ ok: true } & T) | Refusal;

type Meta = {
  state: LiveStateName;
  started_ms: number | null;
  ended_ms: number | null;
  end_reason: "operator" | "idle" | null;
  last_segment_ms: number | null;
  reconnects: number;
  /** D1 has been told the event is live / ended; the recording's index is written. */
  d1_live: number;
  finalized: number;
  recording: "pending" | "ready" | "none" | null;
  /** live.json is behind the timeline (a failed write): the alarm writes it again. */
  state_dirty: number;
};

const RETRY_MS = 5_000;
const BITRATE_WINDOW_MS = 10_000;

export class LiveEvent extends DurableObject<ApiEnv> {
  #config: LiveConfig | null = null;
  #timeline: LiveTimeline | null = null;

  constructor(ctx: DurableObjectState, env: ApiEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      // Nothing is written until `setup`: an upload naming an event that does not exist
      // (any id of the right shape reaches an object) leaves no storage behind.
      const sql = ctx.storage.sql;
      const made = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'config'").toArray().length > 0;
      const row = made ? sql.exec<{ json: string }>("SELECT json FROM config").toArray()[0] : undefined;
      if (row) this.#load(JSON.parse(row.json) as LiveConfig);
    });
  }

  #createTables(): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS config (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)");
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, started_ms INTEGER, ended_ms INTEGER,
      end_reason TEXT, last_segment_ms INTEGER, reconnects INTEGER NOT NULL DEFAULT 0, d1_live INTEGER NOT NULL DEFAULT 0,
      finalized INTEGER NOT NULL DEFAULT 0, recording TEXT, state_dirty INTEGER NOT NULL DEFAULT 0)`);
    sql.exec("CREATE TABLE IF NOT EXISTS errors (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, message TEXT NOT NULL)");
  }

  #load(config: LiveConfig): void {
    this.#config = config;
    this.#timeline = new LiveTimeline(this.ctx.storage.sql, config.ladder);
  }

  #meta(): Meta {
    return this.ctx.storage.sql.exec<Meta>("SELECT * FROM meta").one();
  }

  #env(): ApiEnv {
    return guardEnv(this.env, apiBindingPlan(this.env));
  }

  /** Creates the event (once: the same id again answers what exists). */
  async setup(config: LiveConfig): Promise<LiveStatus> {
    if (!this.#config) {
      this.#createTables();
      this.ctx.storage.sql.exec("INSERT INTO config (id, json) VALUES (1, ?)", JSON.stringify(config));
      this.ctx.storage.sql.exec("INSERT INTO meta (id, state) VALUES (1, 'waiting')");
      this.#load(config);
    }
    return this.status();
  }

  async #authorize(tokenHash: string): Promise<Refusal | { ok: true; config: LiveConfig; timeline: LiveTimeline }> {
    const config = this.#config;
    if (!config || !this.#timeline) return { ok: false, code: "NOT_FOUND", message: "No such live event." };
    if (!(await constantTimeEqual(tokenHash, config.tokenHash))) return { ok: false, code: "UNAUTHORIZED", message: "The ingest token is not this event's." };
    if (this.#meta().state === "ended") return { ok: false, code: "GONE", message: "This live event has ended; create a new one to broadcast again." };
    return { ok: true, config, timeline: this.#timeline };
  }

  #rung(config: LiveConfig, name: string): Rung | undefined {
    return config.ladder.find((r) => r.name === name);
  }

  /** Checked before any byte of a request is read: the token, and that the event takes uploads. */
  async authorize(tokenHash: string): Promise<Granted<{ assetId: string }>> {
    const auth = await this.#authorize(tokenHash);
    return auth.ok ? { ok: true, assetId: auth.config.assetId } : auth;
  }

  /** May this init segment be stored? (`write: false`: the same bytes are stored already.) */
  async checkInit(tokenHash: string, rendition: string, info: TrackInfo, sha256: string): Promise<Granted<{ assetId: string; write: boolean }>> {
    const auth = await this.#authorize(tokenHash);
    if (!auth.ok) return auth;
    const rung = this.#rung(auth.config, rendition);
    if (!rung) return this.#refuse("BAD_REQUEST", `Rendition ${rendition} is not in this event's ladder.`);
    if (rung.kind !== info.kind) return this.#refuse("BAD_REQUEST", `Rendition ${rendition} is ${rung.kind} in the ladder, but its init segment is ${info.kind}.`);
    const existing = auth.timeline.track(rendition);
    if (existing?.initSha === sha256) return { ok: true, assetId: auth.config.assetId, write: false };
    if (existing && auth.timeline.hasPublished(rendition)) {
      return this.#refuse("CONFLICT", `The init segment of ${rendition} changed after its segments were published: broadcast with the same settings, or create a new live event.`);
    }
    return { ok: true, assetId: auth.config.assetId, write: true };
  }

  /** The init segment is in R2: segments of the rendition may follow. */
  async initStored(rendition: string, info: TrackInfo, sha256: string, bytes: number): Promise<void> {
    this.#timeline?.setTrack(rendition, info, sha256, bytes);
  }

  /** The number a segment upload is stored under, given before its body is read. */
  /** `duplicate`: that segment is published already (a retried PUT): the upload is answered and dropped. */
  async reserveSegment(tokenHash: string, rendition: string, n: number): Promise<Granted<{ assetId: string; seq: number; sampleDuration: number; duplicate?: true }>> {
    const auth = await this.#authorize(tokenHash);
    if (!auth.ok) return auth;
    if (!this.#rung(auth.config, rendition)) return this.#refuse("BAD_REQUEST", `Rendition ${rendition} is not in this event's ladder.`);
    const track = auth.timeline.track(rendition);
    if (!track) return this.#refuse("CONFLICT", `Send ${rendition}'s init segment before its media segments.`);
    const reserved = auth.timeline.reserve(rendition, n);
    if ("error" in reserved) return this.#refuse("BAD_REQUEST", reserved.error);
    if (reserved.duplicate) return { ok: true, assetId: auth.config.assetId, seq: reserved.seq, sampleDuration: track.info.sampleDuration, duplicate: true };
    if (reserved.reconnected) {
      this.ctx.storage.sql.exec("UPDATE meta SET reconnects = reconnects + 1");
      this.#note(`the broadcaster started again from segment 0: a discontinuity after segment ${reserved.seq - n - 1}`);
    }
    return { ok: true, assetId: auth.config.assetId, seq: reserved.seq, sampleDuration: track.info.sampleDuration };
  }

  /** A reserved segment reached R2. */
  async segmentStored(rendition: string, seq: number, segment: StoredSegment): Promise<void> {
    if (!this.#timeline || this.#meta().state === "ended") return;
    if (this.#timeline.stored(rendition, seq, segment)) await this.#advance();
  }

  /** The broadcaster's playlist of one rendition: the durations of its newest segments. */
  async ingestPlaylist(tokenHash: string, rendition: string, entries: { n: number; durationSec: number; pdtMs: number | null }[]): Promise<Granted<object>> {
    const auth = await this.#authorize(tokenHash);
    if (!auth.ok) return auth;
    if (!this.#rung(auth.config, rendition)) return this.#refuse("BAD_REQUEST", `Rendition ${rendition} is not in this event's ladder.`);
    const track = auth.timeline.track(rendition);
    if (!track) return this.#refuse("CONFLICT", `Send ${rendition}'s init segment before its playlist.`);
    auth.timeline.durations(rendition, track.info.timescale, entries);
    await this.#advance();
    return { ok: true };
  }

  /** Something the broadcaster sent was refused: kept for the event's status. */
  async noteError(message: string): Promise<void> {
    if (this.#config) this.#note(message);
  }

  #refuse(code: Refusal["code"], message: string): Refusal {
    this.#note(message);
    return { ok: false, code, message };
  }

  #note(message: string): void {
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT INTO errors (at_ms, message) VALUES (?, ?)", Date.now(), message.slice(0, 300));
    sql.exec("DELETE FROM errors WHERE id <= (SELECT max(id) FROM errors) - ?", LIVE_LIMITS.errorsKept);
  }

  async #advance(): Promise<void> {
    const timeline = this.#timeline!;
    const now = Date.now();
    const published = timeline.advance(now);
    if (published.length === 0) return;
    for (const p of published) {
      if (p.gaps.length > 0) this.#note(`segment ${p.seq} never arrived for ${p.gaps.join(", ")}: published as a gap`);
    }
    const meta = this.#meta();
    this.ctx.storage.sql.exec(
      "UPDATE meta SET state = 'live', started_ms = coalesce(started_ms, ?), last_segment_ms = ?, state_dirty = 1",
      now,
      now,
    );
    await this.#writeState();
    if (!meta.d1_live) await this.#tellD1Live(now);
    await this.#arm(now + this.#config!.idleTimeoutSec * 1000);
  }

  #writing: Promise<void> | null = null;
  #writeAgain = false;

  /**
   * The window viewers see, into R2 (the media Worker's only source). One write at a time,
   * each of the newest window: two puts racing could leave the older one last, and a live
   * playlist must never lose a segment it listed. A failure is retried by the alarm.
   */
  #writeState(): Promise<void> {
    if (this.#writing) {
      this.#writeAgain = true;
      return this.#writing;
    }
    this.#writing = (async () => {
      try {
        do {
          this.#writeAgain = false;
          await this.#writeStateOnce();
        } while (this.#writeAgain);
      } finally {
        this.#writing = null;
      }
    })();
    return this.#writing;
  }

  async #writeStateOnce(): Promise<void> {
    const config = this.#config!;
    const timeline = this.#timeline!;
    const view = timeline.view(timeline.windowStart(config.dvrWindowSec));
    if (!view) return;
    const state: LiveState = {
      version: 1,
      liveId: config.liveId,
      assetId: config.assetId,
      writtenAtMs: Date.now(),
      startedAtMs: timeline.startedAtMs() ?? view.runStartsMs[0]!.pdtMs,
      targetDurationSec: view.targetDurationSec,
      dvrWindowSec: config.dvrWindowSec,
      discontinuitySequence: view.discontinuitySequence,
      runStartsMs: view.runStartsMs,
      video: view.video,
      audio: view.audio,
    };
    try {
      await this.#env().MEDIA.put(mediaKeys.live(config.assetId), JSON.stringify(state), { httpMetadata: { contentType: "application/json" } });
      this.ctx.storage.sql.exec("UPDATE meta SET state_dirty = 0");
    } catch (err) {
      log("warn", { event: "dependency_failed", requestId: "", dependency: "r2", message: `live state of ${config.liveId}: ${err}` });
      await this.#arm(Date.now() + 1000);
    }
  }

  async #tellD1Live(now: number): Promise<void> {
    const config = this.#config!;
    try {
      const orm = drizzle(this.#env().DB);
      await orm.batch([
        orm.update(assets).set({ status: "live" }).where(and(eq(assets.id, config.assetId), eq(assets.status, "pending"))),
        orm.update(liveEvents).set({ state: "live", startedAt: new Date(now) }).where(and(eq(liveEvents.id, config.liveId), eq(liveEvents.state, "waiting"))),
        bumpCatalogVersion(orm),
      ]);
      this.ctx.storage.sql.exec("UPDATE meta SET d1_live = 1");
    } catch (err) {
      // Viewers can still play (Play checks D1 only); the alarm tries again.
      log("warn", { event: "dependency_failed", requestId: "", dependency: "d1", message: `live event ${config.liveId} going live: ${err}` });
      await this.#arm(Date.now() + RETRY_MS);
    }
  }

  /** Ends the event (idempotent): nothing more is taken in, and the recording is written. */
  async end(reason: "operator" | "idle" = "operator"): Promise<LiveStatus> {
    if (!this.#config) throw new Error("no such live event");
    if (this.#meta().state !== "ended") {
      this.ctx.storage.sql.exec("UPDATE meta SET state = 'ended', ended_ms = ?, end_reason = ?", Date.now(), reason);
      log("info", { event: "live_event", liveId: this.#config.liveId, state: "ended", reason, segments: this.#timeline!.lastPublished() ? this.#timeline!.published() : 0 });
    }
    await this.#finalize();
    return this.status();
  }

  /** The recording's index.json, live.json gone, and D1 told; retried by the alarm until done. */
  async #finalize(): Promise<void> {
    const meta = this.#meta();
    if (meta.finalized) return;
    const config = this.#config!;
    const timeline = this.#timeline!;
    const env = this.#env();
    try {
      const view = timeline.lastPublished() ? timeline.view(timeline.firstSeq()) : null;
      const index = view ? recordingIndex(config.assetId, view, timeline.files()) : null;
      if (index) await env.MEDIA.put(mediaKeys.index(config.assetId), JSON.stringify(index), { httpMetadata: { contentType: "application/json" } });
      await env.MEDIA.delete(mediaKeys.live(config.assetId));
      const orm = drizzle(env.DB);
      const endedAt = new Date(meta.ended_ms ?? Date.now());
      const recordingRows = index
          ? [
              orm
                .update(assets)
                .set({ status: "published", durationSec: index.durationSec, maxHeight: Math.max(...index.video.map(resolutionClass)), publishedAt: endedAt })
                .where(and(eq(assets.id, config.assetId), inArray(assets.status, ["pending", "live"]))),
              orm.update(titles).set({ runtimeSec: Math.max(1, Math.round(index.durationSec)), updatedAt: endedAt }).where(eq(titles.assetId, config.assetId)),
            ]
          : [];
      await orm.batch([orm.update(liveEvents).set({ state: "ended", endedAt }).where(eq(liveEvents.id, config.liveId)), bumpCatalogVersion(orm), ...recordingRows]);
      this.ctx.storage.sql.exec("UPDATE meta SET finalized = 1, recording = ?", index ? "ready" : "none");
    } catch (err) {
      log("warn", { event: "dependency_failed", requestId: "", dependency: "live_recording", message: `${config.liveId}: ${err}` });
      this.ctx.storage.sql.exec("UPDATE meta SET recording = 'pending'");
      await this.#arm(Date.now() + RETRY_MS);
    }
  }

  async #arm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    if (!this.#config) return;
    const meta = this.#meta();
    const now = Date.now();
    if (meta.state === "ended") {
      await this.#finalize();
      return;
    }
    if (meta.state_dirty) await this.#writeState();
    if (meta.state === "live" && !meta.d1_live) await this.#tellD1Live(now);
    const idleAt = (meta.last_segment_ms ?? now) + this.#config.idleTimeoutSec * 1000;
    if (meta.state === "live" && now >= idleAt) {
      await this.end("idle");
      return;
    }
    if (meta.state === "live") await this.ctx.storage.setAlarm(Math.max(idleAt, now + 1000));
  }

  async status(): Promise<LiveStatus> {
    const config = this.#config;
    if (!config) throw new Error("no such live event");
    const meta = this.#meta();
    const timeline = this.#timeline!;
    const last = timeline.lastPublished();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const errors = this.ctx.storage.sql.exec<{ at_ms: number; message: string }>("SELECT at_ms, message FROM errors ORDER BY id DESC").toArray();
    return {
      liveId: config.liveId,
      titleId: config.titleId,
      assetId: config.assetId,
      name: config.name,
      state: meta.state,
      createdAt: new Date(config.createdAtMs).toISOString(),
      startedAt: iso(meta.started_ms),
      endedAt: iso(meta.ended_ms),
      endReason: meta.end_reason,
      lastSegmentAt: last ? new Date(Math.round(last.pdt_ms + last.duration_ms)).toISOString() : null,
      segments: last ? timeline.published() : 0,
      reconnects: meta.reconnects,
      ingestBitrateKbps: Math.round(timeline.ingestBitrate(BITRATE_WINDOW_MS) / 1000),
      ladder: config.ladder,
      renditions: config.ladder.map((rung) => {
        const info = timeline.track(rung.name)?.info;
        return {
          name: rung.name,
          kind: info?.kind ?? null,
          codecs: info?.codecs ?? null,
          width: info?.kind === "video" ? info.width : null,
          height: info?.kind === "video" ? info.height : null,
        };
      }),
      dvrWindowSec: config.dvrWindowSec,
      idleTimeoutSec: config.idleTimeoutSec,
      recording: meta.recording,
      errors: errors.map((e) => ({ at: new Date(e.at_ms).toISOString(), message: e.message })),
    };
  }
}

/** The recording as an on-demand asset's rendition index: every published segment, from the first. */
function recordingIndex(assetId: string, view: NonNullable<ReturnType<LiveTimeline["view"]>>, files: RenditionIndex["files"]): RenditionIndex {
  return renditionIndexSchema.parse({
    version: 1,
    assetId,
    durationSec: Math.round(view.durationMs) / 1000,
    segmentDurationSec: view.targetDurationSec,
    video: view.video,
    audio: view.audio,
    subtitles: [],
    thumbnails: null,
    poster: null,
    files,
  });
}
