// Small catalogs and assets built in memory, for tests that seed what they need.
import { syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import type { DemoCatalog } from "../../../tools/seed/demo-catalog.ts";

/** A one-rendition, two-segment asset without audio or extras. */
export const tinyAsset = (assetId: string) =>
  syntheticAsset(assetId, { heights: [240], segments: 2, segmentBytes: 3, audio: false, extras: false });

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
