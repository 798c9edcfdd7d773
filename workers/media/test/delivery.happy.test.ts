// Serving media through the Cache API: misses, hits, shared misses, ranges, 304, HEAD, CORS.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { TEE_MAX_BYTES } from "../delivery/serve-object.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { countingBucket, mediaClient, tokenFor } from "./helpers.ts";

const segmentReads = (reads: string[], key: string) => reads.filter((r) => r === key).length;

describe("segments", () => {
  it("stream from R2 on a miss, then come from the cache with no R2 read at all", async () => {
    const asset = await seedSyntheticAsset(env.MEDIA, "seg-miss-hit");
    const token = await tokenFor({ assetId: "seg-miss-hit" });
    const path = `/p/${token}/seg-miss-hit/720p/2.m4s`;
    const { bucket, reads } = countingBucket(env.MEDIA);
    const get = mediaClient({ bucket });

    const miss = await get(path);
    expect(miss.res.status).toBe(200);
    expect(miss.res.headers.get("x-cache")).toBe("MISS");
    expect(miss.body).toEqual(asset.files.get("720p/2.m4s"));
    expect(miss.res.headers.get("content-length")).toBe(String(asset.files.get("720p/2.m4s")!.byteLength));
    expect(miss.res.headers.get("content-type")).toBe("video/iso.segment");
    expect(miss.res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(miss.res.headers.get("set-cookie")).toBeNull();

    const hit = await get(path);
    expect(hit.res.headers.get("x-cache")).toBe("HIT");
    expect(hit.body).toEqual(miss.body);
    expect(segmentReads(reads, mediaKeys.segment("seg-miss-hit", "720p", 2))).toBe(1);

    // A new isolate: the index comes from the Cache API too, so R2 is not touched.
    const fresh = countingBucket(env.MEDIA);
    const warm = await mediaClient({ bucket: fresh.bucket })(path);
    expect(warm.res.headers.get("x-cache")).toBe("HIT");
    expect(warm.body).toEqual(miss.body);
    expect(fresh.reads).toEqual([]);
  });

  it("share one R2 read between concurrent misses in an isolate", async () => {
    const asset = await seedSyntheticAsset(env.MEDIA, "seg-herd", { segmentBytes: 256 * 1024 });
    const token = await tokenFor({ assetId: "seg-herd" });
    const { bucket, reads } = countingBucket(env.MEDIA);
    const get = mediaClient({ bucket });
    await get(`/p/${token}/seg-herd/master.m3u8`); // load the index first
    const results = await Promise.all(Array.from({ length: 20 }, () => get(`/p/${token}/seg-herd/240p/1.m4s`)));
    for (const r of results) {
      expect(r.res.status).toBe(200);
      expect(r.body).toEqual(asset.files.get("240p/1.m4s"));
    }
    expect(segmentReads(reads, mediaKeys.segment("seg-herd", "240p", 1))).toBe(1);
  });

  it("above the tee limit, read R2 twice on a miss (viewer, cache) rather than buffer a tee", async () => {
    const asset = await seedSyntheticAsset(env.MEDIA, "seg-large", { heights: [240], segments: 1, segmentBytes: TEE_MAX_BYTES + 1, audio: false, extras: false });
    const token = await tokenFor({ assetId: "seg-large" });
    const { bucket, reads } = countingBucket(env.MEDIA);
    const get = mediaClient({ bucket });
    const miss = await get(`/p/${token}/seg-large/240p/1.m4s`);
    expect(miss.res.headers.get("x-cache")).toBe("MISS");
    expect(miss.body).toEqual(asset.files.get("240p/1.m4s"));
    expect(segmentReads(reads, mediaKeys.segment("seg-large", "240p", 1))).toBe(2);
    const hit = await get(`/p/${token}/seg-large/240p/1.m4s`);
    expect(hit.res.headers.get("x-cache")).toBe("HIT");
    expect(hit.body).toEqual(miss.body);
  });

  it("answer Range requests on a miss and on a hit: single, open-ended and suffix ranges", async () => {
    const asset = await seedSyntheticAsset(env.MEDIA, "seg-range");
    const token = await tokenFor({ assetId: "seg-range" });
    const bytes = asset.files.get("240p/3.m4s")!;
    const size = bytes.byteLength;
    const get = mediaClient();
    const path = `/p/${token}/seg-range/240p/3.m4s`;
    const cases: [string, number, number][] = [
      ["bytes=10-19", 10, 19],
      ["bytes=100-", 100, size - 1],
      ["bytes=-5", size - 5, size - 1],
      ["bytes=0-999999", 0, size - 1],
    ];
    for (const round of ["miss", "hit"]) {
      for (const [header, start, end] of cases) {
        const { res, body } = await get(path, { headers: { Range: header } });
        expect(res.status, `${round} ${header}`).toBe(206);
        expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
        expect(res.headers.get("content-length")).toBe(String(end - start + 1));
        expect(body).toEqual(bytes.slice(start, end + 1));
      }
    }
    // The range misses filled the cache with the whole file in the background.
    const whole = await get(path);
    expect(whole.res.headers.get("x-cache")).toBe("HIT");
    expect(whole.body).toEqual(bytes);
  });

  it("ignore an invalid Range header and send the whole file", async () => {
    const asset = await seedSyntheticAsset(env.MEDIA, "seg-bad-range");
    const token = await tokenFor({ assetId: "seg-bad-range" });
    for (const header of ["bytes=20-10", "bytes=1-2,5-6", "items=0-1"]) {
      const { res, body } = await mediaClient()(`/p/${token}/seg-bad-range/240p/1.m4s`, { headers: { Range: header } });
      expect(res.status, header).toBe(200);
      expect(body).toEqual(asset.files.get("240p/1.m4s"));
    }
  });

  it("answer If-None-Match with 304 and HEAD with headers only, without reading R2", async () => {
    await seedSyntheticAsset(env.MEDIA, "seg-conditional");
    const token = await tokenFor({ assetId: "seg-conditional" });
    const path = `/p/${token}/seg-conditional/240p/1.m4s`;
    const { bucket, reads } = countingBucket(env.MEDIA);
    const get = mediaClient({ bucket });
    const head = await get(path, { method: "HEAD" });
    expect(head.res.status).toBe(200);
    expect(head.res.headers.get("content-length")).toBe(String(2048 + 1));
    expect(head.body.byteLength).toBe(0);
    const etag = head.res.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const notModified = await get(path, { headers: { "If-None-Match": `"other", ${etag}` } });
    expect(notModified.res.status).toBe(304);
    expect(notModified.res.headers.get("etag")).toBe(etag);
    expect(segmentReads(reads, mediaKeys.segment("seg-conditional", "240p", 1))).toBe(0);
    const full = await get(path, { headers: { "If-None-Match": '"other"' } });
    expect(full.res.status).toBe(200);
    expect(full.res.headers.get("etag")).toBe(etag);
  });
});

describe("other files", () => {
  it("serve posters, sprites, thumbnails and subtitles with their content types", async () => {
    const asset = await seedSyntheticAsset(env.MEDIA, "files-types");
    const token = await tokenFor({ assetId: "files-types" });
    const get = mediaClient();
    for (const [path, type] of [
      ["poster.jpg", "image/jpeg"],
      ["thumbs/sprite.jpg", "image/jpeg"],
      ["thumbs/thumbs.vtt", "text/vtt; charset=utf-8"],
      ["subs/en.vtt", "text/vtt; charset=utf-8"],
      ["720p/init.m4s", "video/mp4"],
    ] as const) {
      const { res, body } = await get(`/p/${token}/files-types/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe(type);
      expect(body, path).toEqual(asset.files.get(path));
    }
  });

  it("serve manifests with their content types, not cached publicly", async () => {
    await seedSyntheticAsset(env.MEDIA, "files-manifests");
    const token = await tokenFor({ assetId: "files-manifests" });
    const get = mediaClient();
    for (const [path, type] of [
      ["master.m3u8", "application/vnd.apple.mpegurl"],
      ["720p/playlist.m3u8", "application/vnd.apple.mpegurl"],
      ["audio-en/playlist.m3u8", "application/vnd.apple.mpegurl"],
      ["subs/en.m3u8", "application/vnd.apple.mpegurl"],
      ["manifest.mpd", "application/dash+xml"],
    ] as const) {
      const { res, text } = await get(`/p/${token}/files-manifests/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe(type);
      expect(res.headers.get("cache-control"), path).toBe("private, max-age=30");
      expect(text().length, path).toBeGreaterThan(20);
    }
  });

  it("keep only the renditions the token allows in the manifests", async () => {
    await seedSyntheticAsset(env.MEDIA, "files-ladder", { heights: [240, 480, 720, 1080] });
    const get = mediaClient();
    const hls = await get(`/p/${await tokenFor({ assetId: "files-ladder", maxHeight: 480 })}/files-ladder/master.m3u8`);
    expect(hls.text().match(/^#EXT-X-STREAM-INF/gm)).toHaveLength(2);
    expect(hls.text()).not.toContain("720p/");
    const dash = await get(`/p/${await tokenFor({ assetId: "files-ladder", maxHeight: 720 })}/files-ladder/manifest.mpd`);
    expect(dash.text().match(/<Representation [^>]*height=/g)).toHaveLength(3);
    expect(dash.text()).not.toContain('id="1080p"');
  });
});

describe("access logs", () => {
  it("log cache hits at debug and everything else at info", async () => {
    await seedSyntheticAsset(env.MEDIA, "log-levels");
    const token = await tokenFor({ assetId: "log-levels" });
    const get = mediaClient();
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    try {
      const path = `/p/${token}/log-levels/240p/1.m4s`;
      await get(path, {}, { LOG_LEVEL: "info" }); // MISS: logged
      await get(path, {}, { LOG_LEVEL: "info" }); // HIT: below info
      await get(`/p/${token}/log-levels/master.m3u8`, {}, { LOG_LEVEL: "info" });
      await get(path, {}, { LOG_LEVEL: "debug" }); // HIT, at debug: logged
    } finally {
      spy.mockRestore();
    }
    const requests = lines.map((l) => JSON.parse(l)).filter((e) => e.event === "request");
    // The token is a credential: never in a log line.
    expect(lines.join("\n")).not.toContain(token);
    expect(requests[0].path).toBe("/p/<token>/log-levels/240p/1.m4s");
    expect(requests.map((e) => [e.level, e.path.split("/").at(-1)])).toEqual([
      ["info", "1.m4s"],
      ["info", "master.m3u8"],
      ["debug", "1.m4s"],
    ]);
  });
});

describe("CORS", () => {
  it("lets configured player origins read media and its timings, and no one else", async () => {
    await seedSyntheticAsset(env.MEDIA, "cors-asset");
    const token = await tokenFor({ assetId: "cors-asset" });
    const get = mediaClient();
    const path = `/p/${token}/cors-asset/240p/1.m4s`;
    const allowed = await get(path, { headers: { Origin: "https://app.marquee.test" } });
    expect(allowed.res.headers.get("access-control-allow-origin")).toBe("https://app.marquee.test");
    expect(allowed.res.headers.get("timing-allow-origin")).toBe("https://app.marquee.test");
    expect(allowed.res.headers.get("access-control-expose-headers")).toContain("Content-Range");
    expect(allowed.res.headers.get("vary")).toContain("Origin");
    const other = await get(path, { headers: { Origin: "https://evil.test" } });
    expect(other.res.status).toBe(200);
    expect(other.res.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await get(path, {
      method: "OPTIONS",
      headers: { Origin: "https://app.marquee.test", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range" },
    });
    expect(preflight.res.status).toBe(204);
    expect(preflight.res.headers.get("access-control-allow-headers")).toContain("Range");
  });
});
