// CMCD (CTA-5004) on media requests: read from the query or the four headers, stamped with
// what the playback token says, sent on the qoe Queue in batches — and never a reason to
// miss the cache, fail the token check or refuse a segment.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cmcdMessageOf } from "./cmcd-message.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { MAX_CMCD_CHARS, readCmcd, sessionShare } from "../qoe/cmcd.ts";
import { mediaClient, recordingQueue, tokenFor } from "./helpers.ts";

const url = (query = "") => new URL(`https://media.marquee.test/p/t/a/720p/1.m4s${query}`);
const read = (query: string, headers: Record<string, string> = {}) => readCmcd(url(query), new Headers(headers));

describe("reading CMCD", () => {
  it("reads the spec's query and header examples (CTA-5004 §5)", () => {
    // CTA-5004 example: "Sending all keys in a query argument", trimmed to what we keep.
    const q = "?CMCD=" + encodeURIComponent('bl=21300,br=3200,bs,cid="faec5fc2-ac30-11ea-bb37-0242ac130002",d=4004,mtp=25400,ot=v,rtp=15000,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",su,tb=6000');
    expect(read(q)).toEqual({ bl: 21300, br: 3200, bs: true, cid: "faec5fc2-ac30-11ea-bb37-0242ac130002", d: 4004, mtp: 25400, ot: "v", rtp: 15000, sid: "6e2fb550-c457-11e9-bb97-0800200c9a66", su: true });
    // The same keys spread over the four headers, as the spec's header example does.
    expect(
      read("", {
        "CMCD-Request": "bl=21300,mtp=25400,su",
        "CMCD-Object": "br=3200,d=4004,ot=v",
        "CMCD-Status": "bs,rtp=15000",
        "CMCD-Session": 'cid="faec5fc2-ac30-11ea-bb37-0242ac130002",sid="6e2fb550-c457-11e9-bb97-0800200c9a66"',
      }),
    ).toEqual({ bl: 21300, br: 3200, bs: true, cid: "faec5fc2-ac30-11ea-bb37-0242ac130002", d: 4004, mtp: 25400, ot: "v", rtp: 15000, sid: "6e2fb550-c457-11e9-bb97-0800200c9a66", su: true });
    // hls.js's own form: the query parameter with a manifest object type.
    expect(read("?CMCD=" + encodeURIComponent('cid="t",ot=m,sf=h,sid="s",st=v,su,v=1'))).toEqual({ cid: "t", ot: "m", sid: "s", su: true });
    expect(read("")).toBeNull();
  });

  it("drops the whole record when any of it is malformed, oversized or off-spec", () => {
    for (const bad of [
      'sid="unterminated',
      "br=abc",
      "ot=zz",
      "br=-5",
      "br=3200.5",
      'sid="' + "x".repeat(80) + '"',
      "((((((((",
      "bl=1,bl=",
      "x".repeat(MAX_CMCD_CHARS + 1),
    ]) {
      expect(read("?CMCD=" + encodeURIComponent(bad)), bad.slice(0, 40)).toBeNull();
    }
    expect(read("", { "CMCD-Object": "br=3200", "CMCD-Request": "bl=?" })).toBeNull();
  });

  it("never throws on any input, and keeps only well-typed keys (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (query, header) => {
        let result: ReturnType<typeof readCmcd> = null;
        expect(() => (result = readCmcd(url("?CMCD=" + encodeURIComponent(query)), new Headers({ "CMCD-Request": header.replace(/[\r\n\0]/g, "") })))).not.toThrow();
        if (result !== null) for (const v of Object.values(result as Record<string, unknown>)) expect(["string", "number", "boolean"]).toContain(typeof v);
      }),
    );
  });

  it("samples whole sessions: a sid's share is fixed and spread over [0, 1)", () => {
    expect(sessionShare("abc")).toBe(sessionShare("abc"));
    const shares = Array.from({ length: 2000 }, (_, i) => sessionShare(`sid-${i}`));
    const kept = shares.filter((s) => s < 0.1).length;
    expect(kept).toBeGreaterThan(120);
    expect(kept).toBeLessThan(280);
  });
});

describe("CMCD on segment requests", () => {
  it("never splits the cache: two players with different sids get the second request's segment from cache", async () => {
    await seedSyntheticAsset(env.MEDIA, "cmcd-cache");
    const token = await tokenFor({ assetId: "cmcd-cache" });
    const fetchAs = mediaClient();
    const path = `/p/${token}/cmcd-cache/720p/2.m4s`;
    const a = await fetchAs(`${path}?CMCD=${encodeURIComponent('bl=0,br=1200,ot=v,sid="player-a",su')}`);
    const b = await fetchAs(path, { headers: { "CMCD-Session": 'sid="player-b"', "CMCD-Request": "bl=8000,mtp=50000" } });
    expect(a.res.status).toBe(200);
    expect(a.res.headers.get("x-cache")).toBe("MISS");
    expect(b.res.status).toBe(200);
    expect(b.res.headers.get("x-cache")).toBe("HIT");
    expect(b.body).toEqual(a.body);
    // A third isolate, a third sid: still the one cached copy.
    const c = await mediaClient()(`${path}?CMCD=${encodeURIComponent('sid="player-c"')}`);
    expect(c.res.headers.get("x-cache")).toBe("HIT");
  });

  it("sends the records on the qoe Queue, one message for many requests, stamped from the token", async () => {
    await seedSyntheticAsset(env.MEDIA, "cmcd-send");
    const token = await tokenFor({ assetId: "cmcd-send", sessionId: "pbs_streamfromtoken", maxHeight: 720 });
    const { queue, sent } = recordingQueue(env.QOE_EVENTS);
    const fetchAs = mediaClient({ cmcdBatchMs: 200 });
    const results = await Promise.all(
      [1, 2, 3].map((n) => fetchAs(`/p/${token}/cmcd-send/720p/${n}.m4s?CMCD=${encodeURIComponent(`bl=${n * 1000},br=1200,ot=v,sid="the-player"`)}`, {}, { QOE_EVENTS: queue })),
    );
    expect(results.map((r) => r.res.status)).toEqual([200, 200, 200]);
    expect(sent).toHaveLength(1);
    const message = cmcdMessageOf(sent[0]);
    expect(message.records.map((r) => [r.object, r.streamId, r.assetId, r.maxHeight, r.cmcd.sid, r.cmcd.bl]).sort()).toEqual([
      ["720p/1.m4s", "pbs_streamfromtoken", "cmcd-send", 720, "the-player", 1000],
      ["720p/2.m4s", "pbs_streamfromtoken", "cmcd-send", 720, "the-player", 2000],
      ["720p/3.m4s", "pbs_streamfromtoken", "cmcd-send", 720, "the-player", 3000],
    ]);
    // A request without CMCD, or with malformed CMCD, sends nothing.
    const quiet = await fetchAs(`/p/${token}/cmcd-send/720p/1.m4s`, {}, { QOE_EVENTS: queue });
    const malformed = await fetchAs(`/p/${token}/cmcd-send/720p/1.m4s?CMCD=${encodeURIComponent('sid="x')}`, { headers: { "CMCD-Request": "((((" } }, { QOE_EVENTS: queue });
    expect([quiet.res.status, malformed.res.status]).toEqual([200, 200]);
    expect(sent).toHaveLength(1);
  });

  it("is read only after the token check: a forged token is 403 whatever CMCD says, and records nothing", async () => {
    await seedSyntheticAsset(env.MEDIA, "cmcd-forged");
    const { queue, sent } = recordingQueue(env.QOE_EVENTS);
    const res = await mediaClient()(`/p/not-a-token/cmcd-forged/720p/1.m4s?CMCD=${encodeURIComponent('sid="x",br=1')}`, {}, { QOE_EVENTS: queue });
    expect(res.res.status).toBe(403);
    expect(sent).toHaveLength(0);
  });

  it("keeps only the sampled share of sessions (CMCD_TIMELINE_SAMPLE), whole sessions at a time", async () => {
    await seedSyntheticAsset(env.MEDIA, "cmcd-sample");
    const token = await tokenFor({ assetId: "cmcd-sample" });
    const { queue, sent } = recordingQueue(env.QOE_EVENTS);
    const fetchAs = mediaClient();
    const sids = Array.from({ length: 40 }, (_, i) => `sample-${i}`);
    for (const sid of sids) await fetchAs(`/p/${token}/cmcd-sample/720p/1.m4s?CMCD=${encodeURIComponent(`sid="${sid}"`)}`, {}, { QOE_EVENTS: queue, CMCD_TIMELINE_SAMPLE: "0.5" });
    const kept = sent.flatMap((m) => cmcdMessageOf(m).records.map((r) => r.cmcd.sid));
    expect(kept.sort()).toEqual(sids.filter((s) => sessionShare(s) < 0.5).sort());
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(35);
  });

  it("lets players on other origins send CMCD headers (CORS preflight)", async () => {
    const token = await tokenFor({ assetId: "cmcd-cache" });
    const res = await mediaClient()(`/p/${token}/cmcd-cache/720p/1.m4s`, {
      method: "OPTIONS",
      headers: { origin: "https://app.marquee.test", "access-control-request-method": "GET", "access-control-request-headers": "cmcd-request,cmcd-session" },
    });
    expect(res.res.status).toBe(204);
    expect(res.res.headers.get("access-control-allow-headers")).toContain("CMCD-Request");
    expect(res.res.headers.get("access-control-allow-headers")).toContain("CMCD-Session");
  });
});
