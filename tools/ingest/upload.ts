// Uploads a packaged asset folder through the admin API: files already there intact are
// skipped (so an interrupted run resumes), large files go in parts, and a few files move
// at once. Nothing becomes visible until the caller publishes.
import { open, readFile } from "node:fs/promises";
import path from "node:path";
import type { RenditionIndex } from "../../lib/media-index.ts";
import type { AdminApi } from "./admin-api.ts";

/** Above this a file goes up in parts: one request body stays well under Workers' limits. */
export const MULTIPART_THRESHOLD = 48 * 1024 * 1024;
const CONCURRENCY = 4;

export type UploadProgress = { bytesDone: number; bytesTotal: number; filesDone: number; filesTotal: number };
export type UploadReport = { uploadedFiles: number; skippedFiles: number; uploadedBytes: number; seconds: number };

async function readPart(file: string, offset: number, length: number): Promise<Uint8Array> {
  const handle = await open(file);
  try {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function uploadInParts(api: AdminApi, assetId: string, rel: string, file: string, bytes: number, onBytes: (n: number) => void) {
  const { uploadId, partBytes } = await api.startMultipart(assetId, rel);
  try {
    const parts: { partNumber: number; etag: string }[] = [];
    for (let offset = 0, n = 1; offset < bytes; offset += partBytes, n++) {
      const chunk = await readPart(file, offset, Math.min(partBytes, bytes - offset));
      parts.push(await api.putPart(assetId, rel, uploadId, n, chunk));
      onBytes(chunk.byteLength);
    }
    await api.completeMultipart(assetId, rel, uploadId, parts);
  } catch (err) {
    await api.abortMultipart(assetId, rel, uploadId).catch(() => {});
    throw err;
  }
}

export async function uploadAsset(
  api: AdminApi,
  dir: string,
  index: RenditionIndex,
  onProgress: (p: UploadProgress) => void = () => {},
): Promise<UploadReport> {
  const started = performance.now();
  const status = await api.startAsset(index);
  const todo = status.files.filter((f) => !f.uploaded);
  const progress: UploadProgress = {
    bytesDone: 0,
    bytesTotal: todo.reduce((sum, f) => sum + f.bytes, 0),
    filesDone: 0,
    filesTotal: todo.length,
  };
  onProgress(progress);
  const onBytes = (n: number) => {
    progress.bytesDone += n;
    onProgress(progress);
  };

  const queue = [...todo];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const file = path.join(dir, f.path);
      if (f.bytes > MULTIPART_THRESHOLD) await uploadInParts(api, index.assetId, f.path, file, f.bytes, onBytes);
      else {
        await api.putFile(index.assetId, f.path, new Uint8Array(await readFile(file)));
        onBytes(f.bytes);
      }
      progress.filesDone++;
      onProgress(progress);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, todo.length) }, worker));
  return {
    uploadedFiles: todo.length,
    skippedFiles: status.files.length - todo.length,
    uploadedBytes: progress.bytesTotal,
    seconds: (performance.now() - started) / 1000,
  };
}
