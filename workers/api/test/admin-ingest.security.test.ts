// What the admin upload protocol refuses — and that a refusal leaves nothing visible.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { api, putJson, uploadAll, viewerStatus } from "./admin-client.ts";

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  return body;
}

describe("the admin token", () => {
  it.each([
    ["no header", {}],
    ["a wrong token", { Authorization: "Bearer not-the-admin-token-at-all-0000" }],
    ["a prefix of the token", { Authorization: `Bearer ${env.ADMIN_TOKEN.slice(0, -1)}` }],
    ["another scheme", { Authorization: `Basic ${env.ADMIN_TOKEN}` }],
  ])("is required: %s gets 401 and changes nothing", async (_, headers) => {
    const asset = await syntheticAsset("sec-no-token");
    const res = await api(`/v1/admin/assets/sec-no-token`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(asset.index) }, headers);
    await expectError(res, 401, "UNAUTHORIZED");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(await env.DB.prepare("SELECT id FROM assets WHERE id = 'sec-no-token'").first()).toBeNull();
    await expectError(await api(`/v1/admin/titles`, { method: "POST", body: "{}" }, headers), 401, "UNAUTHORIZED");
  });
});

describe("uploads", () => {
  it("refuse bytes that do not match the index, and the file stays not uploaded", async () => {
    const asset = await syntheticAsset("sec-bad-bytes");
    await putJson(`/v1/admin/assets/sec-bad-bytes`, asset.index);
    const path = "240p/1.m4s";
    const wrong = new Uint8Array(asset.files.get(path)!.byteLength).fill(7);
    await expectError(await api(`/v1/admin/assets/sec-bad-bytes/files/${encodeURIComponent(path)}`, { method: "PUT", body: wrong }), 422, "CHECKSUM_MISMATCH");
    const status = (await (await api(`/v1/admin/assets/sec-bad-bytes`)).json()) as { files: { path: string; uploaded: boolean }[] };
    expect(status.files.find((f) => f.path === path)?.uploaded).toBe(false);
  });

  it("refuse a body whose length differs from the index", async () => {
    const asset = await syntheticAsset("sec-bad-length");
    await putJson(`/v1/admin/assets/sec-bad-length`, asset.index);
    await expectError(await api(`/v1/admin/assets/sec-bad-length/files/${encodeURIComponent("240p/1.m4s")}`, { method: "PUT", body: new Uint8Array(3) }), 400, "BAD_REQUEST");
  });

  it("refuse files the index does not list, including paths that try to climb out", async () => {
    const asset = await syntheticAsset("sec-unlisted");
    await putJson(`/v1/admin/assets/sec-unlisted`, asset.index);
    for (const path of ["index.json", "../sec-other/index.json", "240p/99.m4s", "/etc/passwd"]) {
      await expectError(await api(`/v1/admin/assets/sec-unlisted/files/${encodeURIComponent(path)}`, { method: "PUT", body: new Uint8Array(1) }), 404, "NOT_FOUND");
    }
    expect(await env.MEDIA.head("assets/sec-other/index.json")).toBeNull();
  });

  it("refuse an index whose asset id differs from the URL's, or that is not a valid index", async () => {
    const asset = await syntheticAsset("sec-mismatch");
    await expectError(await putJson(`/v1/admin/assets/sec-other-id`, asset.index), 400, "BAD_REQUEST");
    await expectError(await putJson(`/v1/admin/assets/sec-mismatch`, { ...asset.index, video: [] }), 400, "VALIDATION_FAILED");
    await expectError(await putJson(`/v1/admin/assets/Not_Valid`, asset.index), 400, "VALIDATION_FAILED");
    expect(await env.DB.prepare("SELECT id FROM assets WHERE id IN ('sec-mismatch', 'sec-other-id')").first()).toBeNull();
  });

  it("refuse a multipart upload whose parts do not add up to the file, deleting what was written", async () => {
    const asset = await syntheticAsset("sec-multipart", { heights: [240], segments: 1, segmentBytes: 6 * 1024 * 1024, audio: false, extras: false });
    await putJson(`/v1/admin/assets/sec-multipart`, asset.index);
    const path = "240p/1.m4s";
    const { uploadId } = (await (await putJson(`/v1/admin/assets/sec-multipart/multipart`, { path }, "POST")).json()) as { uploadId: string };
    const query = new URLSearchParams({ path, uploadId, partNumber: "1" });
    const part = (await (await api(`/v1/admin/assets/sec-multipart/multipart/part?${query}`, { method: "PUT", body: new Uint8Array(6 * 1024 * 1024 + 1) })).json()) as { partNumber: number; etag: string };
    await expectError(await putJson(`/v1/admin/assets/sec-multipart/multipart/complete`, { path, uploadId, parts: [part] }, "POST"), 422, "CHECKSUM_MISMATCH");
    expect(await env.MEDIA.head("assets/sec-multipart/240p/1.m4s")).toBeNull();
  });
});

describe("publishing", () => {
  it("refuses while files are missing, naming them, and the asset stays invisible", async () => {
    const asset = await syntheticAsset("sec-incomplete");
    await putJson(`/v1/admin/assets/sec-incomplete`, asset.index);
    await uploadAll(asset, new Set(["720p/3.m4s", "poster.jpg"]));
    const body = await expectError(await api(`/v1/admin/assets/sec-incomplete/publish`, { method: "POST" }), 409, "CONFLICT");
    expect((body.error.details as { missing: string[] }).missing.sort()).toEqual(["720p/3.m4s", "poster.jpg"]);
    expect(await viewerStatus("sec-incomplete")).toBe(404);
  });

  it("refuses to link to a missing title or the wrong kind of title before the asset becomes visible", async () => {
    const asset = await syntheticAsset("sec-bad-target");
    await putJson(`/v1/admin/assets/sec-bad-target`, asset.index);
    await uploadAll(asset);
    await expectError(await putJson(`/v1/admin/assets/sec-bad-target/publish`, { titleId: "no-such-title" }, "POST"), 404, "NOT_FOUND");
    const { id: seriesId } = (await (await putJson(`/v1/admin/titles`, { name: "A Series", kind: "series" }, "POST")).json()) as { id: string };
    await expectError(await putJson(`/v1/admin/assets/sec-bad-target/publish`, { titleId: seriesId }, "POST"), 409, "CONFLICT");
    expect(await viewerStatus("sec-bad-target")).toBe(404);
  });

  it("keeps a published asset immutable: other content under its id is a conflict", async () => {
    const asset = await syntheticAsset("sec-immutable");
    await putJson(`/v1/admin/assets/sec-immutable`, asset.index);
    await uploadAll(asset);
    await api(`/v1/admin/assets/sec-immutable/publish`, { method: "POST" });
    await expectError(await putJson(`/v1/admin/assets/sec-immutable`, { ...asset.index, durationSec: 99 }), 409, "CONFLICT");
    await expectError(await api(`/v1/admin/assets/sec-immutable/files/${encodeURIComponent("240p/1.m4s")}`, { method: "PUT", body: asset.files.get("240p/1.m4s")! }), 409, "CONFLICT");
  });

  it("answers 404 for an asset that was never started", async () => {
    await expectError(await api(`/v1/admin/assets/never-started/publish`, { method: "POST" }), 404, "NOT_FOUND");
    await expectError(await api(`/v1/admin/assets/never-started`), 404, "NOT_FOUND");
  });
});
