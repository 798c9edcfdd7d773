// Quality of experience: players' reports through POST /v1/qoe, the Queue and the real
// consumer into per-minute rollups, read back by the admin API; and CMCD on media
// requests (through the api's /p/* forwarding to the media Worker) into a session's
// timeline, without ever touching the cache key or the answer.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { histogramPercentile, PLAY_DELAY_BUCKETS_MS, playDelayBucket, type QoeReport } from "../../../lib/qoe.ts";
import { ADMIN } from "./admin-client.ts";
import { call } from "./auth-client.ts";
import { deliver, eventually, scalar } from "./events-client.ts";
import { memberOn, seedPlayableCatalog, startPlayback, started, type Member } from "./playback-client.ts";
import { qoeReport } from "./qoe-client.ts";
import { wellInsideRateWindow } from "./rate-window.ts";
import { expectNoInlineCode, expectSecurityHeaders, page, webMember } from "./pages-client.ts";
import { exports } from "cloudflare:workers";

await seedPlayableCatalog();

const post = (headers: Record<string, string>, reports: unknown[], extra: Record<string, unknown> = {}) => call("/v1/qoe", { headers, json: { reports, ...extra } });
const admin = (path: string) => call(path, { headers: ADMIN });

type Row = { key: string; label: string; starts: number; exitsBeforeVideo: number; playDelayMs: { p50: number | null; p95: number | null }; rebufferRatio: number | null; stallsPerHour: number | null; avgBitrateKbps: number | null; errorRate: number | null; playingMsByHeight: number[] };

async function rollup(groupBy = "title"): Promise<Row[]> {
  const res = await admin(`/v1/admin/qoe?groupBy=${groupBy}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { rows: Row[] }).rows;
}

/** A member with a real stream of "first-light" (a signed id from Play). */
async function viewer(): Promise<Member & { streamId: string }> {
  const m = await memberOn("premium");
  const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
  return { ...m, streamId: s.id };
}

const reportsIn = (titleId: string) => scalar("SELECT COUNT(*) AS n FROM qoe_reports WHERE title_id = ?", titleId);

describe("the play-delay histogram", () => {
  it("puts each delay in the bucket below its bound and reads percentiles back within a bucket", () => {
    expect(playDelayBucket(0)).toBe(0);
    expect(playDelayBucket(249)).toBe(0);
    expect(playDelayBucket(250)).toBe(1);
    expect(playDelayBucket(25_000)).toBe(PLAY_DELAY_BUCKETS_MS.length);
    const counts = Array(PLAY_DELAY_BUCKETS_MS.length + 1).fill(0);
    for (const ms of [300, 400, 600, 700, 800, 900, 1200, 1300, 1800, 5000]) counts[playDelayBucket(ms)]++;
    const p50 = histogramPercentile(counts, 50)!;
    const p95 = histogramPercentile(counts, 95)!;
    // The true p50 is 800-900 ms (bucket 750-1000); p95 is 5000 (bucket 4000-6000).
    expect(p50).toBeGreaterThanOrEqual(750);
    expect(p50).toBeLessThanOrEqual(1000);
    expect(p95).toBeGreaterThanOrEqual(4000);
    expect(p95).toBeLessThanOrEqual(6000);
    expect(histogramPercentile(counts.map(() => 0), 50)).toBeNull();
  });
});

describe("POST /v1/qoe", () => {
  it("takes a player's reports through the Queue into the rollups the admin API reads, each id once", async () => {
    const v = await viewer();
    const first = qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId, titleId: "first-light" });
    const later: QoeReport = { ...qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId }), seq: 1, firstFrame: undefined, playingMs: 20_000, heightMs: { "1080": 20_000 }, kbpsMs: 3000 * 20_000, stalls: 1, stallMs: 500 };
    delete (later as Partial<QoeReport>).firstFrame;
    const before = await reportsIn("first-light");
    const res = await post(v.headers, [first, later]);
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    // Sent again (a lost answer): the same ids count once.
    expect((await post(v.headers, [first])).status).toBe(202);
    await eventually(async () => expect(await reportsIn("first-light")).toBe(before + 2));
    // And a redelivery of the same message straight to the consumer changes nothing either.
    await deliver([{ v: 1, kind: "report", accountId: v.accountId, country: "FR", device: "desktop", receivedAt: Date.now(), report: first }], "qoe");
    expect(await reportsIn("first-light")).toBe(before + 2);

    const row = (await rollup()).find((r) => r.key === "first-light")!;
    expect(row.label).toBe("First Light");
    expect(row.starts).toBeGreaterThanOrEqual(1);
    expect(row.playDelayMs.p50).toBeGreaterThan(0);
    expect(row.avgBitrateKbps).toBeGreaterThan(0);
    expect(row.rebufferRatio).toBeGreaterThan(0);
    expect(row.playingMsByHeight[2]).toBeGreaterThanOrEqual(10_000); // 720p
    expect(row.playingMsByHeight[3]).toBeGreaterThanOrEqual(20_000); // 1080p
  }, 30_000);

  it("folds exactly what it was sent: sums per minute equal the reports' sums", async () => {
    const v = await viewer();
    const reports = Array.from({ length: 12 }, (_, i) =>
      qoeReport({
        playbackSessionId: v.streamId,
        profileId: v.profileId,
        titleId: "first-light",
        seq: i,
        firstFrame: i % 3 === 0 ? { playDelayMs: 200 + i * 100, pageToFirstFrameMs: null } : undefined,
        playingMs: 1000 * i,
        stalls: i % 2,
        stallMs: 100 * (i % 2),
        heightMs: { "480": 1000 * i },
        kbpsMs: 500 * 1000 * i,
        droppedFrames: i,
      }),
    ).map((r) => (r.firstFrame ? r : (({ firstFrame: _, ...rest }) => rest)(r)));
    const messages = reports.map((report) => ({ v: 1, kind: "report", accountId: v.accountId, country: "JP", device: "tv", receivedAt: Date.now(), report }));
    const result = await deliver(messages, "qoe");
    expect(result.explicitAcks).toHaveLength(12);
    const sums = await env.DB.prepare("SELECT SUM(starts) AS starts, SUM(playing_ms) AS playing, SUM(stalls) AS stalls, SUM(stall_ms) AS stall_ms, SUM(kbps_ms) AS kbps_ms, SUM(ms_h1) AS h480, SUM(dropped_frames) AS dropped, SUM(d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10 + d11) AS delays FROM qoe_minutes WHERE country = 'JP' AND device = 'tv'").first<Record<string, number>>();
    expect(sums).toEqual({ starts: 4, playing: 66_000, stalls: 6, stall_ms: 600, kbps_ms: 33_000_000, h480: 66_000, dropped: 66, delays: 4 });
    const byDevice = await rollup("device");
    expect(byDevice.find((r) => r.key === "tv")?.avgBitrateKbps).toBe(500);
  });

  it("takes a beacon's CSRF token from its body (navigator.sendBeacon cannot set headers), and nothing without one", async () => {
    const m = await webMember({ plan: "premium", enter: true });
    const s = (await (
      await exports.default.fetch("https://marquee.test/v1/playback/sessions", {
        method: "POST",
        headers: { cookie: m.cookie, "x-csrf-token": m.csrfToken, "content-type": "application/json" },
        body: JSON.stringify({ titleId: "first-light", profileId: m.profileId }),
      })
    ).json()) as { id: string };
    const report = qoeReport({ playbackSessionId: s.id, profileId: m.profileId });
    const beacon = (body: unknown) =>
      exports.default.fetch("https://marquee.test/v1/qoe", { method: "POST", headers: { cookie: m.cookie, "content-type": "application/json" }, body: JSON.stringify(body) });
    const refused = await beacon({ reports: [report] });
    expect(refused.status).toBe(403);
    expect(errorBodySchema.parse(await refused.json()).error.details).toEqual({ reason: "csrf" });
    expect((await beacon({ reports: [report], csrfToken: "x".repeat(43) })).status).toBe(403);
    expect((await beacon({ reports: [report], csrfToken: m.csrfToken })).status).toBe(202);
  });

  it("refuses a stream the server did not start, another account's profile, bad and oversized bodies, and no session — nothing queued", async () => {
    const v = await viewer();
    const other = await memberOn("premium");
    const sent: string[] = [];
    const post = (headers: Record<string, string>, reports: { id: string }[]) => {
      sent.push(...reports.map((r) => r.id));
      return call("/v1/qoe", { headers, json: { reports } });
    };
    const forged = await post(v.headers, [qoeReport({ playbackSessionId: `pbs_${"A".repeat(38)}`, profileId: v.profileId })]);
    expect(forged.status).toBe(403);
    expect(errorBodySchema.parse(await forged.json()).error.details).toMatchObject({ reason: "unknown_playback_session" });
    const otherTitle = await post(v.headers, [qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId, titleId: "late-night" })]);
    expect(otherTitle.status).toBe(403);
    const foreign = await post(other.headers, [qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId })]);
    expect(foreign.status).toBe(403);
    for (const bad of [
      { ...qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId }), playingMs: -1 },
      { ...qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId }), planHeight: 999 },
      { ...qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId }), heightMs: { "0720": 5 } },
      { ...qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId }), extra: 1 },
      { ...qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId }), clientTime: Date.now() + 86_400_000 },
    ]) {
      const res = await post(v.headers, [bad]);
      expect(res.status, JSON.stringify(bad).slice(0, 120)).toBe(400);
      errorBodySchema.parse(await res.json());
    }
    expect((await post(v.headers, Array.from({ length: 21 }, () => qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId })))).status).toBe(400);
    const huge = await call("/v1/qoe", { headers: v.headers, json: { reports: [], pad: "x".repeat(40 * 1024) } });
    expect(huge.status).toBe(413);
    expect((await call("/v1/qoe", { json: { reports: [qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId })] } })).status).toBe(401);
    // Nothing was queued: after the consumer's longest wait (5 s), none of these ids is in D1.
    await new Promise((r) => setTimeout(r, 6000));
    const placeholders = sent.map(() => "?").join(", ");
    expect(await scalar(`SELECT COUNT(*) AS n FROM qoe_reports WHERE id IN (${placeholders})`, ...sent)).toBe(0);
  }, 30_000);

  it("limits a profile's requests (the events rate binding, its own key): 429 with Retry-After", async () => {
    const v = await viewer();
    // Well inside one of the binding's windows: one straddling a window's turn let 21 through (1 run in ~50).
    await wellInsideRateWindow(10);
    const statuses = await Promise.all(Array.from({ length: 30 }, () => post(v.headers, [qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId })]).then((r) => r.status)));
    expect(statuses.filter((s) => s === 202)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  }, 20_000);
});

describe("GET /v1/admin/qoe", () => {
  it("needs the admin token, and a range of at most 31 days that starts before it ends", async () => {
    expect((await call("/v1/admin/qoe")).status).toBe(401);
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    expect((await admin(`/v1/admin/qoe?from=${iso(now)}&to=${iso(now - 1000)}`)).status).toBe(400);
    expect((await admin(`/v1/admin/qoe?from=${iso(now - 40 * 86_400_000)}&to=${iso(now)}`)).status).toBe(400);
    expect((await admin(`/v1/admin/qoe?groupBy=planet`)).status).toBe(400);
    expect((await admin(`/v1/admin/qoe?from=yesterday`)).status).toBe(400);
    const ok = await admin(`/v1/admin/qoe?from=${iso(now - 3600_000)}&to=${iso(now + 60_000)}&groupBy=day`);
    expect(ok.status).toBe(200);
  });
});

describe("CMCD on media requests", () => {
  it("lands in the session's timeline with the token's stream, whatever the player calls its session", async () => {
    const v = await viewer();
    const s = await started(await startPlayback(v.headers, { titleId: "first-light", profileId: v.profileId }));
    const base = s.media.hlsUrl.replace(/master\.m3u8$/, "");
    const sid = `sid-${crypto.randomUUID()}`;
    const cmcd = (extra: string) => encodeURIComponent(`br=1200,bl=4000,d=2000,mtp=25000,ot=v,sid="${sid}",su,${extra}`.replace(/,$/, ""));
    const first = await exports.default.fetch(`${base}720p/1.m4s?CMCD=${cmcd("")}`);
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const second = await exports.default.fetch(`${base}720p/2.m4s`, { headers: { "CMCD-Request": "bl=6100,mtp=31000", "CMCD-Object": "br=1200,d=2000,ot=v", "CMCD-Session": `sid="${sid}"`, "CMCD-Status": "bs" } });
    expect(second.status).toBe(200);
    await second.arrayBuffer();
    const timeline = await eventually(async () => {
      const res = await admin(`/v1/admin/qoe/sessions/${sid}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { streamIds: string[]; assetIds: string[]; requests: { object: string; br: number; bl: number; mtp: number; su: boolean; bs: boolean; ot: string }[] };
      expect(body.requests).toHaveLength(2);
      return body;
    });
    expect(timeline.streamIds).toEqual([s.id]);
    expect(timeline.assetIds).toEqual(["asset-one"]);
    expect(timeline.requests.map((r) => [r.object, r.ot, r.br, r.bl, r.mtp, r.su, r.bs])).toEqual([
      ["720p/1.m4s", "v", 1200, 4000, 25000, true, false],
      ["720p/2.m4s", "v", 1200, 6100, 31000, false, true],
    ]);
    // The stream id finds the same timeline: a support agent starts from the account's streams.
    const byStream = (await (await admin(`/v1/admin/qoe/sessions/${s.id}`)).json()) as { requests: unknown[] };
    expect(byStream.requests.length).toBeGreaterThanOrEqual(2);
    expect((await admin(`/v1/admin/qoe/sessions/sid-nobody`)).status).toBe(404);
    expect((await call(`/v1/admin/qoe/sessions/${sid}`)).status).toBe(401);
  }, 30_000);
});

describe("the QoE dashboard, /admin/qoe", () => {
  it("asks for the admin token with a Basic challenge, and takes it as Basic or Bearer", async () => {
    const none = await page("/admin/qoe");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic realm="marquee-admin"/);
    const wrong = await page("/admin/qoe", null, { headers: { authorization: `Basic ${btoa("admin:not-the-token-not-the-token")}` } });
    expect(wrong.status).toBe(401);
    const basic = await page("/admin/qoe", null, { headers: { authorization: `Basic ${btoa(`ops:${env.ADMIN_TOKEN}`)}` } });
    expect(basic.status).toBe(200);
    const bearer = await page("/admin/qoe?hours=2", null, { headers: ADMIN });
    expect(bearer.status).toBe(200);
    // Non-canonical base64 of the right credentials is refused like any other.
    const padded = btoa(`ops:${env.ADMIN_TOKEN}`);
    if (padded.endsWith("=")) expect((await page("/admin/qoe", null, { headers: { authorization: `Basic ${padded}=` } })).status).toBe(401);
  });

  it("draws its charts as SVG under the strict CSP, with the worst titles in a table", async () => {
    const v = await viewer();
    expect((await post(v.headers, [qoeReport({ playbackSessionId: v.streamId, profileId: v.profileId, firstFrame: { playDelayMs: 4500, pageToFirstFrameMs: 5000 } })])).status).toBe(202);
    await eventually(async () => {
      const html = await (await page("/admin/qoe", null, { headers: ADMIN })).text();
      expect(html).toContain('data-title-id="first-light"');
    });
    const res = await page("/admin/qoe", null, { headers: ADMIN });
    expectSecurityHeaders(res);
    const html = await res.text();
    expectNoInlineCode(html);
    expect(html.match(/<svg class="chart"/g)).toHaveLength(4);
    expect(html).toContain("Play delay (Play to first frame)");
    expect(html).toContain("Rebuffer ratio");
    expect(html).toContain("Bitrate mix");
    expect(html).toContain("Error rate");
  }, 30_000);
});
