// The ingest's upload protocol through the real api Worker, and what viewers can see
// through the real media Worker behind the service binding.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { listTitles } from "../catalog/list-titles.ts";
import { api, putJson, uploadAll, viewerStatus } from "./admin-client.ts";


describe("uploading an asset", () => {
  it("goes index → files → publish, and is invisible to viewers until published", async () => {
    const asset = await syntheticAsset("ingest-flow");
    const start = await putJson(`/v1/admin/assets/ingest-flow`, asset.index);
    expect(start.status).toBe(200);
    const status = (await start.json()) as { status: string; files: { uploaded: boolean }[] };
    expect(status.status).toBe("pending");
    expect(status.files.every((f) => !f.uploaded)).toBe(true);

    await uploadAll(asset);
    expect(await viewerStatus("ingest-flow")).toBe(404);

    const after = (await (await api(`/v1/admin/assets/ingest-flow`)).json()) as { files: { uploaded: boolean }[] };
    expect(after.files.every((f) => f.uploaded)).toBe(true);

    const published = await api(`/v1/admin/assets/ingest-flow/publish`, { method: "POST" });
    expect(published.status).toBe(200);
    expect(await published.json()).toMatchObject({ assetId: "ingest-flow", status: "published" });
    expect(await viewerStatus("ingest-flow")).toBe(200);
  });

  it("resumes: a second run sees what is already uploaded intact and uploads only the rest", async () => {
    const asset = await syntheticAsset("ingest-resume");
    await putJson(`/v1/admin/assets/ingest-resume`, asset.index);
    const firstHalf = [...asset.files.keys()].slice(0, 5);
    await uploadAll(asset, new Set([...asset.files.keys()].filter((p) => !firstHalf.includes(p))));
    const again = (await (await putJson(`/v1/admin/assets/ingest-resume`, asset.index)).json()) as { files: { path: string; uploaded: boolean }[] };
    expect(again.files.filter((f) => f.uploaded).map((f) => f.path).sort()).toEqual(firstHalf.sort());
  });

  it("links the published asset to a new movie, or to a series episode", async () => {
    const movieAsset = await syntheticAsset("ingest-movie");
    await putJson(`/v1/admin/assets/ingest-movie`, movieAsset.index);
    await uploadAll(movieAsset);
    const created = await putJson(`/v1/admin/titles`, { name: "Zoë's Long Night" }, "POST");
    expect(created.status).toBe(201);
    const { id: movieId } = (await created.json()) as { id: string };
    expect(movieId).toMatch(/^zoe-s-long-night-[a-z0-9]{6}$/);
    expect((await putJson(`/v1/admin/assets/ingest-movie/publish`, { titleId: movieId }, "POST")).status).toBe(200);

    const seriesAsset = await syntheticAsset("ingest-episode");
    await putJson(`/v1/admin/assets/ingest-episode`, seriesAsset.index);
    await uploadAll(seriesAsset);
    const { id: seriesId } = (await (await putJson(`/v1/admin/titles`, { name: "Cache Hits", kind: "series" }, "POST")).json()) as { id: string };
    const linked = await putJson(`/v1/admin/assets/ingest-episode/publish`, { titleId: seriesId, episode: { season: 1, number: 2, name: "Warm" } }, "POST");
    expect(linked.status).toBe(200);
    expect(await linked.json()).toMatchObject({ titleId: seriesId, episodeId: `${seriesId}-s1e2` });

    const status = (await (await api(`/v1/admin/assets/ingest-episode`)).json()) as { linkedTo: unknown[] };
    expect(status.linkedTo).toEqual([{ titleId: seriesId, episodeId: `${seriesId}-s1e2` }]);

    const titles = await listTitles(env.DB);
    expect(titles.find((t) => t.id === movieId)).toMatchObject({ name: "Zoë's Long Night", runtimeSec: 6 });
    const episode = await env.DB.prepare("SELECT name, asset_id FROM episodes WHERE id = ?").bind(`${seriesId}-s1e2`).first();
    expect(episode).toEqual({ name: "Warm", asset_id: "ingest-episode" });
  });

  it("uploads a large file in parts, checking the whole file when it completes", async () => {
    const asset = await syntheticAsset("ingest-multipart", { heights: [240], segments: 1, segmentBytes: 11 * 1024 * 1024, audio: false, extras: false });
    await putJson(`/v1/admin/assets/ingest-multipart`, asset.index);
    const path = "240p/1.m4s";
    const bytes = asset.files.get(path)!;
    const started = (await (await putJson(`/v1/admin/assets/ingest-multipart/multipart`, { path }, "POST")).json()) as { uploadId: string; partBytes: number };
    const parts: { partNumber: number; etag: string }[] = [];
    for (let offset = 0, n = 1; offset < bytes.byteLength; offset += started.partBytes, n++) {
      const query = new URLSearchParams({ path, uploadId: started.uploadId, partNumber: String(n) });
      const res = await api(`/v1/admin/assets/ingest-multipart/multipart/part?${query}`, { method: "PUT", body: bytes.slice(offset, offset + started.partBytes) });
      expect(res.status).toBe(200);
      parts.push((await res.json()) as { partNumber: number; etag: string });
    }
    expect(parts).toHaveLength(2);
    const done = await putJson(`/v1/admin/assets/ingest-multipart/multipart/complete`, { path, uploadId: started.uploadId, parts }, "POST");
    expect(done.status, await done.clone().text()).toBe(204);
    await uploadAll(asset, new Set([path]));
    expect((await api(`/v1/admin/assets/ingest-multipart/publish`, { method: "POST" })).status).toBe(200);
    expect(await viewerStatus("ingest-multipart")).toBe(200);
  });

  it("treats the same index again after publishing as a no-op", async () => {
    const asset = await syntheticAsset("ingest-idempotent");
    await putJson(`/v1/admin/assets/ingest-idempotent`, asset.index);
    await uploadAll(asset);
    await api(`/v1/admin/assets/ingest-idempotent/publish`, { method: "POST" });
    const again = await putJson(`/v1/admin/assets/ingest-idempotent`, asset.index);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "published" });
    expect((await api(`/v1/admin/assets/ingest-idempotent/publish`, { method: "POST" })).status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("documents the admin routes and their bearer-token security", async () => {
    const doc = (await (await exports.default.fetch("https://marquee.test/v1/openapi.json")).json()) as {
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/admin/assets/{assetId}", "/v1/admin/assets/{assetId}/files/{path}", "/v1/admin/assets/{assetId}/publish", "/v1/admin/titles"]),
    );
    expect(doc.components.securitySchemes.adminToken).toEqual({ type: "http", scheme: "bearer" });
  });
});
