// Small catalogs and packaged assets built in memory, for tests that seed what they need.
import type { RenditionIndex } from "../../../lib/media-index.ts";
import type { DemoCatalog } from "../../../tools/seed/demo-catalog.ts";

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A two-segment, one-rendition asset whose files are a few distinct bytes each. */
export async function tinyAsset(assetId: string) {
  const files = new Map<string, Uint8Array>([
    ["240p/init.m4s", new Uint8Array([1, 2, 3])],
    ["240p/1.m4s", new Uint8Array([4, 5, 6, 7])],
    ["240p/2.m4s", new Uint8Array([8, 9])],
  ]);
  const index: RenditionIndex = {
    version: 1,
    assetId,
    durationSec: 4,
    segmentDurationSec: 2,
    video: [
      {
        id: "240p",
        codecs: "avc1.640015",
        bandwidth: 16,
        averageBandwidth: 12,
        width: 426,
        height: 240,
        frameRate: 24,
        segments: { timescale: 1000, startNumber: 1, durations: [2000, 2000], bytes: [4, 2] },
      },
    ],
    audio: [],
    subtitles: [],
    thumbnails: null,
    poster: null,
    files: await Promise.all([...files].map(async ([path, bytes]) => ({ path, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) }))),
  };
  const indexBytes = new TextEncoder().encode(JSON.stringify(index));
  const read = async (path: string) => {
    const bytes = files.get(path);
    if (!bytes) throw new Error(`no file ${path}`);
    return bytes;
  };
  return { index, indexBytes, read, files };
}

export const smallCatalog: DemoCatalog = {
  genres: [
    { id: "drama", name: "Drama" },
    { id: "comedy", name: "Comedy" },
  ],
  titles: [
    {
      id: "first-light",
      kind: "movie",
      name: "First Light",
      synopsis: "Dawn, slowly.",
      releaseYear: 2024,
      maturityRating: "PG",
      assetId: "asset-one",
      genres: ["drama", "comedy"],
    },
    {
      id: "second-wind",
      kind: "series",
      name: "Second Wind",
      synopsis: "Again, <faster>.",
      releaseYear: 2025,
      maturityRating: "TV-14",
      assetId: null,
      genres: ["comedy"],
    },
  ],
};
