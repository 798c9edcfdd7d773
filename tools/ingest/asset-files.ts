// The asset folder's own bookkeeping: the hashed file list of index.json, and what may safely be wiped.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { RenditionIndex } from "../../lib/media-index.ts";
import { IngestInputError } from "./errors.ts";

/** In-progress encoder output inside the asset folder: same filesystem, so files move by rename. */
export const WORK_DIR_NAME = ".work";

/** Every file but index.json, hashed, in an order that is the same on every machine. */
export async function listFiles(assetDir: string): Promise<RenditionIndex["files"]> {
  // Numbers padded so 2.m4s sorts before 10.m4s without a locale-dependent collator.
  const sortKey = (p: string) => p.replace(/\d+/g, (digits) => digits.padStart(10, "0"));
  const paths = (await walk(assetDir))
    .map((file) => path.relative(assetDir, file).split(path.sep).join("/"))
    .filter((p) => p !== "index.json")
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const files: RenditionIndex["files"] = [];
  for (const p of paths) {
    const file = path.join(assetDir, p);
    files.push({ path: p, bytes: (await stat(file)).size, sha256: await sha256(file) });
  }
  return files;
}

/** Streamed, so a multi-gigabyte asset never sits in memory. */
function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)])),
  );
  return nested.flat();
}

/**
 * The output folder is deleted and rewritten, so it must be one this pipeline owns: absent,
 * empty, a packaged asset (index.json) or an interrupted run (.work). A typo such as `--out ~`
 * is refused rather than wiped.
 */
export async function requireReplaceableDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException): string[] => {
    if (error.code === "ENOENT") return [];
    throw new IngestInputError(`${dir} is not a folder that can be written`, "INVALID_OPTIONS");
  });
  if (entries.length === 0 || entries.includes("index.json") || entries.includes(WORK_DIR_NAME)) return;
  throw new IngestInputError(`${dir} is not empty and holds no packaged asset; refusing to replace it`, "INVALID_OPTIONS");
}
