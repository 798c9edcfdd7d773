/// <reference path="../../media/test/m3u8-parser.d.ts" />
// Live events in workerd: the admin routes, ingest PUTs of a synthetic stream (fMP4 built in
// memory, shaped as ffmpeg's HLS muxer sends it), the live HLS playlist's window, sequence
// numbers and program date-times, the dynamic DASH MPD's timeline, reconnects, gaps, the
// end (the recording plays on demand) and the refusals, all through the real bindings.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { XMLParser } from "fast-xml-parser";
import { Parser, type Manifest } from "m3u8-parser";
import { beforeAll, describe, expect, it } from "vitest";
import type { LiveEvent, LiveStatus } from "../../../durable-objects/live-event.ts";
import { parsePlaybackKeys, signPlaybackToken } from "../../../lib/playback-token.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { ingestPlaylist, initSegment, mediaSegment } from "../../../test-support/synthetic-fmp4.ts";
import { ADMIN, api } from "./admin-client.ts";
import { call } from "./auth-client.ts";
import { memberOn, seedPlayableCatalog, startPlayback, started } from "./playback-client.ts";

type Created = LiveStatus & { ingest: { baseUrl: string; token: string } };

const LADDER = [
  { name: "360p", kind: "video", width: 640, height: 360, bitrateKbps: 800 },
  { name: "144p", kind: "video", width: 256, height: 144, bitrateKbps: 200 },
  { name: "audio", kind: "audio", bitrateKbps: 96 },
] as const;

const TRACKS = {
  "360p": { kind: "video", width: 640, height: 360, timescale: 15360 },
  "144p": { kind: "video", width: 256, height: 144, timescale: 15360 },
  audio: { kind: "audio", sampleRate: 48000 },
} as const;
type Rendition = keyof typeof TRACKS;
const RENDITIONS = Object.keys(TRACKS) as Rendition[];

async function createLive(body: Record<string, unknown> = {}): Promise<Created> {
  const res = await api("/v1/admin/live", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Launch Night", ladder: LADDER, ...body }) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Created;
}

function put(live: Created, path: string, body: BodyInit, token = live.ingest.token, headers: Record<string, string> = {}) {
  return exports.default.fetch(`${live.ingest.baseUrl}${path}`, { method: "PUT", body, headers: { Authorization: `Bearer ${token}`, ...headers } });
}

async function ok(res: Promise<Response>, status = [201, 204]) {
  const r = await res;
  const text = await r.text();
  expect(status, `${r.status} ${text}`).toContain(r.status);
}

/** Samples of 2 s: 30 video frames of 1024 units at 15360/s; audio 94 frames of 1024 at 48 kHz (2.005 s). */
const samplesOf = (r: Rendition) => (TRACKS[r].kind === "video" ? { samples: 30, sampleDuration: 1024 } : { samples: 94, sampleDuration: 1024 });

class Broadcaster {
  readonly live: Created;
  /** ffmpeg's own numbering: restarts at 0 when ffmpeg does. */
  n = 0;
  readonly decode: Record<string, number> = {};
  readonly sent: Record<string, { n: number; durationSec: number }[]> = {};

  constructor(live: Created) {
    this.live = live;
  }

  async inits(): Promise<void> {
    for (const [i, r] of RENDITIONS.entries()) await ok(put(this.live, `${r}/init_${i}.mp4`, initSegment(TRACKS[r])));
  }

  /** One segment on every rendition (except `skip`), each followed by its playlist, as ffmpeg does. */
  async segment(skip: Rendition[] = []): Promise<void> {
    const n = this.n++;
    for (const r of RENDITIONS) {
      const { samples, sampleDuration } = samplesOf(r);
      const timescale = TRACKS[r].kind === "video" ? 15360 : 48000;
      const decodeTime = this.decode[r] ?? 0;
      this.decode[r] = decodeTime + samples * sampleDuration;
      (this.sent[r] ??= []).push({ n, durationSec: (samples * sampleDuration) / timescale });
      if (skip.includes(r)) continue;
      await ok(put(this.live, `${r}/${n}.m4s`, mediaSegment({ sequence: n + 1, decodeTime, samples, sampleDuration, payloadBytes: 2000 + n })));
      await ok(put(this.live, `${r}/index.m3u8`, ingestPlaylist(this.sent[r]!.slice(-6))), [204]);
    }
  }

  /** ffmpeg started again: its numbering and its media clock from 0. */
  restart(): void {
    this.n = 0;
    for (const r of RENDITIONS) {
      this.decode[r] = 0;
      this.sent[r] = [];
    }
  }
}

async function mediaUrl(assetId: string, path: string): Promise<string> {
  const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
  const token = await signPlaybackToken({ assetId, accountId: "a", sessionId: "s", maxHeight: 2160, expiresAt: Math.floor(Date.now() / 1000) + 600 }, keys);
  return `https://marquee.test/p/${token}/${assetId}/${path}`;
}

async function media(assetId: string, path: string): Promise<Response> {
  return exports.default.fetch(await mediaUrl(assetId, path));
}

async function playlist(assetId: string, path: string): Promise<{ text: string; manifest: Manifest }> {
  const res = await media(assetId, path);
  // Decoded by hand: the runtime warns about .text() on a body typed as a playlist.
  const text = new TextDecoder().decode(await res.arrayBuffer());
  expect(res.status, text).toBe(200);
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return { text, manifest: parser.manifest };
}

type Mpd = { MPD: Record<string, unknown> & { Period: Record<string, unknown> | Record<string, unknown>[] } };

async function mpd(assetId: string): Promise<Mpd["MPD"]> {
  const res = await media(assetId, "manifest.mpd");
  const text = new TextDecoder().decode(await res.arrayBuffer());
  expect(res.status, text).toBe(200);
  return (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(text) as Mpd).MPD;
}

const periods = (m: Mpd["MPD"]) => (Array.isArray(m.Period) ? m.Period : [m.Period]) as Record<string, any>[];

/** The video set's first representation's timeline entries of one Period. */
function timelineOf(period: Record<string, any>): { t?: string; d: string; r?: string }[] {
  const sets = Array.isArray(period.AdaptationSet) ? period.AdaptationSet : [period.AdaptationSet];
  const video = sets.find((s: Record<string, string>) => s.contentType === "video");
  const rep = Array.isArray(video.Representation) ? video.Representation[0] : video.Representation;
  const s = rep.SegmentTemplate.SegmentTimeline.S;
  return Array.isArray(s) ? s : [s];
}

/** The media Worker keeps a live state for half a segment (1 s here): viewers see the end within that. */
const viewersCatchUp = () => new Promise((resolve) => setTimeout(resolve, 1100));

const status = async (liveId: string) => (await (await api(`/v1/admin/live/${liveId}`)).json()) as LiveStatus;
const eventObject = (liveId: string) => env.LIVE_EVENTS.get(env.LIVE_EVENTS.idFromName(liveId));

beforeAll(async () => {
  await seedPlayableCatalog();
});

describe("creating a live event", () => {
  it("makes a title, a pending asset and the ingest URL and token; the default ladder has three video rungs and audio", async () => {
    const res = await api("/v1/admin/live", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Defaults" }) });
    expect(res.status).toBe(201);
    const live = (await res.json()) as Created;
    expect(live.liveId).toMatch(/^live-[0-9a-f]{24}$/);
    expect(live.assetId).toBe(live.liveId);
    expect(live.state).toBe("waiting");
    expect(live.ladder.map((r) => r.name)).toEqual(["720p", "480p", "240p", "audio"]);
    expect(live.ingest.baseUrl).toBe(`https://marquee.test/v1/live/${live.liveId}/ingest/`);
    expect(live.ingest.token).toMatch(/^lvt_[A-Za-z0-9_-]{43}$/);
    const title = await env.DB.prepare("SELECT t.name, t.asset_id, a.status FROM titles t JOIN assets a ON a.id = t.asset_id WHERE t.id = ?").bind(live.titleId).first();
    expect(title).toEqual({ name: "Defaults", asset_id: live.assetId, status: "pending" });
    // The token is never stored: the object keeps its hash only.
    const stored = await runInDurableObject(eventObject(live.liveId), (_: LiveEvent, state: DurableObjectState) => state.storage.sql.exec<{ json: string }>("SELECT json FROM config").one().json);
    expect(stored).not.toContain(live.ingest.token);
  });

  it("refuses bad input with 4xx and changes nothing; admin routes need the admin token", async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM live_events").first<{ n: number }>();
    const post = (body: unknown, headers = ADMIN) => api("/v1/admin/live", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }, headers);
    for (const body of [
      {},
      { name: "" },
      { name: "x", ladder: [] },
      { name: "x", ladder: [{ name: "audio", kind: "audio", bitrateKbps: 96 }] },
      { name: "x", ladder: [LADDER[0], LADDER[0]] },
      { name: "x", ladder: [{ ...LADDER[0], name: "../x" }] },
      { name: "x", dvrWindowSec: 10 },
      { name: "x", extra: 1 },
    ]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
    }
    expect((await post({ name: "x", titleId: "no-such-title" })).status).toBe(404);
    expect((await post({ name: "x", titleId: "second-wind" })).status).toBe(409);
    expect((await post({ name: "x", titleId: "first-light" })).status).toBe(409);
    expect((await post({ name: "x" }, {} as typeof ADMIN)).status).toBe(401);
    expect((await api("/v1/admin/live/live-000000000000000000000000")).status).toBe(404);
    expect((await api("/v1/admin/live/not-an-id")).status).toBe(400);
    const after = await env.DB.prepare("SELECT count(*) AS n FROM live_events").first<{ n: number }>();
    expect(after).toEqual(before);
  });
});

describe("ingest", () => {
  it("refuses an upload without this event's token before any byte reaches R2", async () => {
    const live = await createLive();
    const other = await createLive();
    const segment = mediaSegment({ sequence: 1, decodeTime: 0, samples: 30, sampleDuration: 1024 });
    const cases: [string, Record<string, string>][] = [
      ["none", {}],
      ["malformed", { Authorization: "Bearer nope" }],
      ["another event's", { Authorization: `Bearer ${other.ingest.token}` }],
      ["basic", { Authorization: `Basic ${btoa(`x:${live.ingest.token}`)}` }],
    ];
    for (const [what, headers] of cases) {
      for (const path of ["360p/init_0.mp4", "360p/0.m4s", "360p/index.m3u8", "master.m3u8"]) {
        const res = await exports.default.fetch(`${live.ingest.baseUrl}${path}`, { method: "PUT", body: path.endsWith("m4s") ? segment : initSegment(TRACKS["360p"]), headers });
        expect(res.status, `${what} ${path}`).toBe(401);
        expect(res.headers.get("WWW-Authenticate")).toContain("marquee-live-ingest");
      }
    }
    const listed = await env.MEDIA.list({ prefix: mediaKeys.assetPrefix(live.assetId) });
    expect(listed.objects).toEqual([]);
    expect((await status(live.liveId)).state).toBe("waiting");
  });

  it("refuses what is not in the ladder, out of order, not fMP4, over its size or on a name ffmpeg does not send", async () => {
    const live = await createLive();
    const seg = mediaSegment({ sequence: 1, decodeTime: 0, samples: 30, sampleDuration: 1024 });
    const expectStatus = async (res: Promise<Response>, code: number) => {
      const r = await res;
      const body = (await r.json()) as { error: { code: string } };
      expect(r.status, JSON.stringify(body)).toBe(code);
    };
    await expectStatus(put(live, "360p/0.m4s", seg), 409); // before its init
    await expectStatus(put(live, "1080p/init_0.mp4", initSegment(TRACKS["360p"])), 400); // not in the ladder
    await expectStatus(put(live, "audio/init_0.mp4", initSegment(TRACKS["360p"])), 400); // video under an audio rung
    await expectStatus(put(live, "360p/init_0.mp4", new Uint8Array([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65])), 400); // no moov
    await expectStatus(put(live, "360p/init_0.mp4", new Uint8Array(70 * 1024)), 413);
    await ok(put(live, "360p/init_0.mp4", initSegment(TRACKS["360p"])));
    await expectStatus(put(live, "360p/0.m4s", new Uint8Array([0, 0, 0, 7, 1, 2, 3])), 400);
    await expectStatus(put(live, "360p/50.m4s", seg), 400); // far ahead
    await expectStatus(put(live, "360p/00.m4s", seg), 404); // not canonical
    await expectStatus(put(live, "360p/-1.m4s", seg), 404);
    await expectStatus(put(live, "360p/x.ts", seg), 404);
    await expectStatus(put(live, "360p/index.m3u8", "not a playlist"), 400);
    await expectStatus(put(live, "360p/index.m3u8", "#EXTM3U\n#EXTINF:2.0,\n../../etc.m4s\n"), 400);
    await expectStatus(put(live, "360p/0.m4s", seg, live.ingest.token, { "content-length": String(17 * 1024 * 1024) }), 413);
    // A chunked body over a segment's bound is cut off at the bound.
    const big = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 17; i++) controller.enqueue(new Uint8Array(1024 * 1024));
        controller.close();
      },
    });
    await expectStatus(put(live, "360p/0.m4s", big), 413);
    const s = await status(live.liveId);
    expect(s.segments).toBe(0);
    expect(s.errors.length).toBeGreaterThan(3);
    // Nothing but the one init reached R2.
    const listed = await env.MEDIA.list({ prefix: mediaKeys.assetPrefix(live.assetId) });
    expect(listed.objects.map((o) => o.key)).toEqual([mediaKeys.init(live.assetId, "360p")]);
  });

  it("gives a burst of parallel uploads each its own segment number, once", async () => {
    const live = await createLive();
    const b = new Broadcaster(live);
    await b.inits();
    // Ten segments of every rendition at once, and each one twice (a retried PUT).
    const uploads = [];
    for (let n = 0; n < 10; n++) {
      for (const r of RENDITIONS) {
        const { samples, sampleDuration } = samplesOf(r);
        const body = () => mediaSegment({ sequence: n + 1, decodeTime: n * samples * sampleDuration, samples, sampleDuration });
        uploads.push(put(live, `${r}/${n}.m4s`, body()), put(live, `${r}/${n}.m4s`, body()));
      }
    }
    const answers = await Promise.all(uploads);
    expect(answers.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    await Promise.all(answers.map((r) => r.body?.cancel()));
    const s = await status(live.liveId);
    expect(s.segments).toBe(10);
    const { manifest } = await playlist(live.assetId, "360p/playlist.m3u8");
    expect(manifest.segments.map((seg) => seg.uri)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}.m4s`));
  });
});

describe("a live stream", () => {
  let live: Created;
  let b: Broadcaster;

  beforeAll(async () => {
    live = await createLive({ dvrWindowSec: 60 });
    b = new Broadcaster(live);
    await b.inits();
    for (let i = 0; i < 6; i++) await b.segment();
  });

  it("is live in D1 and the status: six segments, the ingest bitrate, the renditions read from the init segments", async () => {
    const s = await status(live.liveId);
    expect(s.state).toBe("live");
    expect(s.segments).toBe(6);
    expect(s.ingestBitrateKbps).toBeGreaterThan(0);
    expect(s.renditions).toEqual([
      { name: "360p", kind: "video", codecs: "avc1.64001f", width: 640, height: 360 },
      { name: "144p", kind: "video", codecs: "avc1.64001f", width: 256, height: 144 },
      { name: "audio", kind: "audio", codecs: "mp4a.40.2", width: null, height: null },
    ]);
    const row = await env.DB.prepare("SELECT le.state, a.status FROM live_events le JOIN assets a ON a.id = le.asset_id WHERE le.id = ?").bind(live.liveId).first();
    expect(row).toEqual({ state: "live", status: "live" });
  });

  it("serves a live HLS playlist: sequence numbers from 0, exact durations, one program date-time, no end", async () => {
    const { text, manifest } = await playlist(live.assetId, "360p/playlist.m3u8");
    expect(manifest.mediaSequence).toBe(0);
    expect(manifest.discontinuitySequence).toBe(0);
    expect(manifest.endList).toBeFalsy();
    expect(manifest.playlistType).toBeUndefined();
    expect(manifest.targetDuration).toBe(2);
    expect(manifest.segments.map((s) => s.uri)).toEqual(["0.m4s", "1.m4s", "2.m4s", "3.m4s", "4.m4s", "5.m4s"]);
    expect(manifest.segments.every((s) => s.duration === 2)).toBe(true);
    expect(text.match(/#EXT-X-PROGRAM-DATE-TIME/g)).toHaveLength(1);
    const first = manifest.segments[0]!.programDateTime!;
    // Dated when it arrived, less its length; each later one 2 s on.
    expect(Math.abs(first - (Date.now() - 12_000))).toBeLessThan(10_000);
    manifest.segments.forEach((s, i) => expect(s.programDateTime).toBe(first + i * 2000));
    const s = await status(live.liveId);
    expect(Date.parse(s.lastSegmentAt!)).toBe(first + 12_000);
    const audio = await playlist(live.assetId, "audio/playlist.m3u8");
    expect(audio.manifest.segments[0]!.duration).toBeCloseTo(2.005333, 5);
    const master = await playlist(live.assetId, "master.m3u8");
    expect(master.manifest.playlists!.map((p) => p.attributes.RESOLUTION)).toEqual([
      { width: 256, height: 144 },
      { width: 640, height: 360 },
    ]);
    expect((await media(live.assetId, "master.m3u8")).headers.get("Cache-Control")).toBe("private, max-age=1");
  });

  it("serves a dynamic DASH MPD whose SegmentTimeline lists the same segments", async () => {
    const m = await mpd(live.assetId);
    expect(m.type).toBe("dynamic");
    const first = (await playlist(live.assetId, "360p/playlist.m3u8")).manifest.segments[0]!.programDateTime!;
    expect(Date.parse(m.availabilityStartTime as string)).toBe(first);
    expect(m.timeShiftBufferDepth).toBe("PT60.000S");
    expect(m.minimumUpdatePeriod).toBe("PT2.000S");
    expect(m.mediaPresentationDuration).toBeUndefined();
    const [period] = periods(m);
    expect(period!.start).toBe("PT0.000S");
    expect(timelineOf(period!)).toEqual([{ t: "0", d: "30720", r: "5" }]);
  });

  it("serves the segments the window lists, and nothing else", async () => {
    const res = await media(live.assetId, "360p/3.m4s");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toContain("immutable");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe((await env.MEDIA.get(mediaKeys.segment(live.assetId, "360p", 3)))!.size);
    const init = await media(live.assetId, "360p/init.m4s");
    expect(init.status).toBe(200);
    await init.body?.cancel();
    for (const path of ["360p/6.m4s", "360p/live.json", "live.json", "index.json", "1080p/playlist.m3u8"]) {
      const r = await media(live.assetId, path);
      expect(r.status, path).toBe(404);
      await r.body?.cancel();
    }
  });

  it("plays through Play as a live title: no inline playlists, no resume, and a Live now row at the top of home", async () => {
    const m = await memberOn("premium");
    const s = await started(await startPlayback(m.headers, { titleId: live.titleId, profileId: m.profileId }));
    expect(s.live).toBe(true);
    expect(s.durationSec).toBe(0);
    expect(s.resume.positionSec).toBe(0);
    expect(s.media.hlsMaster).toBeNull();
    expect(s.media.hlsUrl).toMatch(new RegExp(`/p/[^/]+/${live.assetId}/master\\.m3u8$`));
    const master = await exports.default.fetch(s.media.hlsUrl);
    expect(master.status).toBe(200);
    await master.body?.cancel();
    const home = (await (await call(`/v1/home?profile=${m.profileId}`, { headers: m.headers })).json()) as { rows: { id: string; items: { id: string }[] }[] };
    expect(home.rows[0]!.id).toBe("live-now");
    expect(home.rows[0]!.items.map((i) => i.id)).toContain(live.titleId);
  });

  it("slides its DVR window: past 60 s of media the oldest segments leave the playlist and the MPD", async () => {
    for (let i = 0; i < 30; i++) await b.segment();
    // The previous test's reads left the state of six segments kept (in memory and in the
    // Cache API, half a segment), and 30 uploads can take less than that.
    await viewersCatchUp();
    const { manifest } = await playlist(live.assetId, "360p/playlist.m3u8");
    // 36 segments of 2 s: the newest 30 end within 60 s of the newest's end.
    expect(manifest.mediaSequence).toBe(6);
    expect(manifest.segments).toHaveLength(30);
    expect(manifest.segments[0]!.uri).toBe("6.m4s");
    const all = await playlist(live.assetId, "144p/playlist.m3u8");
    expect(all.manifest.mediaSequence).toBe(6);
    const [period] = periods(await mpd(live.assetId));
    // The Period still starts where the run began; the timeline starts at the window.
    expect(period!.start).toBe("PT0.000S");
    expect(timelineOf(period!)).toEqual([{ t: String(6 * 30720), d: "30720", r: "29" }]);
    const gone = await media(live.assetId, "360p/2.m4s");
    expect(gone.status).toBe(404);
    await gone.body?.cancel();
  });
});

describe("a broadcaster that reconnects, or loses an upload", () => {
  it("marks a restart from segment 0 as a discontinuity: numbers go on, a new program date-time, a new DASH Period", async () => {
    const live = await createLive();
    const b = new Broadcaster(live);
    await b.inits();
    for (let i = 0; i < 3; i++) await b.segment();
    b.restart();
    await b.inits(); // ffmpeg sends its init again: the same bytes, so nothing changes
    for (let i = 0; i < 2; i++) await b.segment();
    const { text, manifest } = await playlist(live.assetId, "360p/playlist.m3u8");
    expect(manifest.segments.map((s) => s.uri)).toEqual(["0.m4s", "1.m4s", "2.m4s", "3.m4s", "4.m4s"]);
    expect(manifest.segments.map((s) => Boolean(s.discontinuity))).toEqual([false, false, false, true, false]);
    expect(text.match(/#EXT-X-PROGRAM-DATE-TIME/g)).toHaveLength(2);
    expect(manifest.segments[3]!.programDateTime!).toBeGreaterThanOrEqual(manifest.segments[0]!.programDateTime! + 6000);
    const s = await status(live.liveId);
    expect(s.reconnects).toBe(1);
    const ps = periods(await mpd(live.assetId));
    expect(ps.map((p) => p.id)).toEqual(["p0", "p1"]);
    expect(timelineOf(ps[1]!)).toEqual([{ t: "0", d: "30720", r: "1" }]);
    const template = (p: Record<string, any>) => (p.AdaptationSet[0] ?? p.AdaptationSet).Representation[0].SegmentTemplate;
    expect(template(ps[1]!).startNumber).toBe("3");
    // A changed init segment after publishing is refused: old segments would not decode.
    const changed = await put(live, "360p/init_0.mp4", initSegment({ kind: "video", width: 320, height: 180 }));
    expect(changed.status).toBe(409);
    await changed.body?.cancel();
  });

  it("answers an upload sent again after it was published without changing it or starting a new run", async () => {
    const live = await createLive();
    const b = new Broadcaster(live);
    await b.inits();
    for (let i = 0; i < 5; i++) await b.segment();
    const before = await (await env.MEDIA.get(mediaKeys.segment(live.assetId, "360p", 4)))!.arrayBuffer();
    const again = await put(live, "360p/4.m4s", mediaSegment({ sequence: 99, decodeTime: 0, samples: 30, sampleDuration: 1024, payloadBytes: 10 }));
    expect(again.status).toBe(201);
    await again.body?.cancel();
    const after = await (await env.MEDIA.get(mediaKeys.segment(live.assetId, "360p", 4)))!.arrayBuffer();
    expect(new Uint8Array(after)).toEqual(new Uint8Array(before));
    expect((await status(live.liveId)).reconnects).toBe(0);
    await b.segment();
    expect((await playlist(live.assetId, "360p/playlist.m3u8")).manifest.segments.map((seg) => seg.uri).at(-1)).toBe("5.m4s");
  });

  it("leaves no storage behind in an object an upload names that no event has", async () => {
    const liveId = "live-0123456789abcdef01234567";
    const res = await exports.default.fetch(`https://marquee.test/v1/live/${liveId}/ingest/720p/0.m4s`, { method: "PUT", body: "x", headers: { Authorization: `Bearer lvt_${"a".repeat(43)}` } });
    expect(res.status).toBe(404);
    await res.body?.cancel();
    const tables = await runInDurableObject(eventObject(liveId), (_: LiveEvent, state: DurableObjectState) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray());
    expect(tables).toEqual([]);
  });

  it("publishes a segment one rendition never delivered as a gap once two later ones are complete", async () => {
    const live = await createLive();
    const b = new Broadcaster(live);
    await b.inits();
    await b.segment();
    await b.segment(["144p"]);
    await b.segment();
    expect((await status(live.liveId)).segments).toBe(1);
    await b.segment();
    const s = await status(live.liveId);
    expect(s.segments).toBe(4);
    expect(s.errors.some((e) => e.message.includes("segment 1 never arrived for 144p"))).toBe(true);
    // m3u8-parser does not read EXT-X-GAP: the tag stands right before the gap's EXTINF.
    const low = await playlist(live.assetId, "144p/playlist.m3u8");
    expect(low.text).toMatch(/#EXT-X-GAP\n#EXTINF:2\.000000,\n1\.m4s\n/);
    expect(low.text.match(/#EXT-X-GAP/g)).toHaveLength(1);
    const high = await playlist(live.assetId, "360p/playlist.m3u8");
    expect(high.text).not.toContain("#EXT-X-GAP");
    const hole = await media(live.assetId, "144p/1.m4s");
    expect(hole.status).toBe(404);
    await hole.body?.cancel();
  });
});

describe("the end", () => {
  it("turns the recording into an on-demand title that plays from 0 to the end; ingest is then refused", async () => {
    const live = await createLive();
    const b = new Broadcaster(live);
    await b.inits();
    for (let i = 0; i < 4; i++) await b.segment();
    const res = await api(`/v1/admin/live/${live.liveId}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    const ended = (await res.json()) as LiveStatus;
    expect(ended).toMatchObject({ state: "ended", endReason: "operator", recording: "ready", segments: 4 });
    // Again: the same answer.
    expect(((await (await api(`/v1/admin/live/${live.liveId}`, { method: "DELETE" })).json()) as LiveStatus).state).toBe("ended");
    expect(await env.MEDIA.head(mediaKeys.live(live.assetId))).toBeNull();
    const row = await env.DB.prepare("SELECT a.status, a.duration_sec, t.runtime_sec, le.state FROM assets a JOIN titles t ON t.asset_id = a.id JOIN live_events le ON le.asset_id = a.id WHERE a.id = ?").bind(live.assetId).first();
    expect(row).toEqual({ status: "published", duration_sec: 8, runtime_sec: 8, state: "ended" });
    await viewersCatchUp();
    const m = await memberOn("premium");
    const s = await started(await startPlayback(m.headers, { titleId: live.titleId, profileId: m.profileId }));
    expect(s.live).toBe(false);
    expect(s.durationSec).toBe(8);
    const { manifest } = await playlist(live.assetId, "360p/playlist.m3u8");
    expect(manifest.playlistType).toBe("VOD");
    expect(manifest.endList).toBe(true);
    expect(manifest.segments.map((seg) => seg.uri)).toEqual(["0.m4s", "1.m4s", "2.m4s", "3.m4s"]);
    const m4 = await mpd(live.assetId);
    expect(m4.type).toBe("static");
    for (const path of ["360p/0.m4s", "360p/3.m4s", "audio/init.m4s"]) {
      const r = await media(live.assetId, path);
      expect(r.status, path).toBe(200);
      await r.body?.cancel();
    }
    const late = await put(live, "360p/4.m4s", mediaSegment({ sequence: 5, decodeTime: 0, samples: 30, sampleDuration: 1024 }));
    expect(late.status).toBe(410);
    await late.body?.cancel();
    const home = (await (await call(`/v1/home?profile=${m.profileId}`, { headers: m.headers })).json()) as { rows: { id: string; items: { id: string }[] }[] };
    expect(home.rows.find((r) => r.id === "live-now")?.items.some((i) => i.id === live.titleId) ?? false).toBe(false);
  });

  it("keeps a reconnect in the recording: a discontinuity in its HLS, a Period of its own in its DASH", async () => {
    const live = await createLive();
    const b = new Broadcaster(live);
    await b.inits();
    for (let i = 0; i < 3; i++) await b.segment();
    b.restart();
    for (let i = 0; i < 2; i++) await b.segment();
    const ended = (await (await api(`/v1/admin/live/${live.liveId}`, { method: "DELETE" })).json()) as LiveStatus;
    expect(ended).toMatchObject({ recording: "ready", segments: 5, reconnects: 1 });
    await viewersCatchUp();
    const { manifest } = await playlist(live.assetId, "360p/playlist.m3u8");
    expect(manifest.endList).toBe(true);
    expect(manifest.segments.map((seg) => Boolean(seg.discontinuity))).toEqual([false, false, false, true, false]);
    const m = await mpd(live.assetId);
    expect(m.type).toBe("static");
    const ps = periods(m);
    expect(ps.map((p) => [p.id, p.start])).toEqual([
      ["p0", "PT0.000S"],
      ["p1", "PT6.000S"],
    ]);
    expect(timelineOf(ps[1]!)).toEqual([{ t: "0", d: "30720", r: "1" }]);
  });

  it("ends itself when the broadcaster goes quiet, leaving a playable stream until then", async () => {
    const live = await createLive({ idleTimeoutSec: 10 });
    const b = new Broadcaster(live);
    await b.inits();
    for (let i = 0; i < 3; i++) await b.segment();
    const object = eventObject(live.liveId);
    // Not yet quiet long enough: the alarm leaves it live, and the playlist still plays.
    await runDurableObjectAlarm(object);
    expect((await status(live.liveId)).state).toBe("live");
    expect((await playlist(live.assetId, "360p/playlist.m3u8")).manifest.segments).toHaveLength(3);
    await runInDurableObject(object, (_: LiveEvent, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE meta SET last_segment_ms = last_segment_ms - 11000");
    });
    await runInDurableObject(object, (_: LiveEvent, state: DurableObjectState) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(object)).toBe(true);
    const s = await status(live.liveId);
    expect(s).toMatchObject({ state: "ended", endReason: "idle", recording: "ready" });
    await viewersCatchUp();
    expect((await playlist(live.assetId, "360p/playlist.m3u8")).manifest.endList).toBe(true);
  });

  it("ends with no recording when nothing was broadcast", async () => {
    const live = await createLive();
    const ended = (await (await api(`/v1/admin/live/${live.liveId}`, { method: "DELETE" })).json()) as LiveStatus;
    expect(ended).toMatchObject({ state: "ended", recording: "none" });
    const row = await env.DB.prepare("SELECT status FROM assets WHERE id = ?").bind(live.assetId).first();
    expect(row).toEqual({ status: "pending" });
  });
});
