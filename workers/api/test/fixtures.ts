// Small catalogs and assets built in memory, for tests that seed what they need.
import { syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import type { DemoCatalog } from "../../../tools/seed/demo-catalog.ts";

/** A one-rendition, two-segment asset without audio or extras. */
export const tinyAsset = (assetId: string) =>
  syntheticAsset(assetId, { heights: [240], segments: 2, segmentBytes: 3, audio: false, extras: false });

/** A movie and a series (two seasons, three episodes), with credits; one asset plays all. */
export const smallCatalog: DemoCatalog = {
  genres: [
    { id: "drama", name: "Drama" },
    { id: "comedy", name: "Comedy" },
  ],
  people: [
    { id: "ines-marchetti", name: "Inès Marchetti" },
    { id: "kofi-brennan", name: "Kofi Brennan" },
  ],
  titles: [
    {
      id: "first-light",
      kind: "movie",
      name: "First Light",
      synopsis: "Dawn, slowly.",
      releaseYear: 2024,
      maturityRating: "PG",
      popularity: 12.5,
      posterPath: "/artwork/first-light.svg",
      assetId: "asset-one",
      genres: ["drama", "comedy"],
      credits: [
        { personId: "ines-marchetti", role: "director" },
        { personId: "kofi-brennan", role: "cast", character: "Ada Hale" },
      ],
    },
    {
      id: "second-wind",
      kind: "series",
      name: "Second Wind",
      synopsis: "Again, <faster>.",
      releaseYear: 2025,
      maturityRating: "TV-14",
      popularity: 40,
      posterPath: "/artwork/second-wind.svg",
      availableUntil: "2030-01-01T00:00:00.000Z",
      assetId: null,
      genres: ["comedy"],
      credits: [
        { personId: "ines-marchetti", role: "creator" },
        { personId: "ines-marchetti", role: "cast", character: "Herself" },
        { personId: "kofi-brennan", role: "cast", character: "Bram Pike" },
      ],
      seasons: [
        {
          number: 1,
          name: "Season 1",
          episodes: [
            { number: 1, name: "Pilot", synopsis: "It begins.", assetId: "asset-one" },
            { number: 2, name: "Relapse", synopsis: "It begins again.", assetId: "asset-one" },
          ],
        },
        { number: 2, name: "Season 2", episodes: [{ number: 1, name: "Return", synopsis: "Back.", assetId: "asset-one" }] },
      ],
    },
  ],
};
