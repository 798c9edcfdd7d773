// `npm run seed` (and so `npm run dev`) against real local D1 and R2 state: everything
// the first time, nothing the second.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { seedLocal } from "../seed.ts";

const state = await mkdtemp(path.join(tmpdir(), "marquee-seed-"));
afterAll(() => rm(state, { recursive: true, force: true }));

describe("seedLocal", () => {
  it("seeds the demo media and catalog once; a second run changes nothing", async () => {
    const first = await seedLocal(state, { quiet: true });
    expect(first.filesUploaded).toBe(33); // 32 listed files + index.json
    expect(first.filesUnchanged).toBe(0);
    expect(first.rowsInserted).toBeGreaterThanOrEqual(6 + 1); // at least the titles and the asset

    const second = await seedLocal(state, { quiet: true });
    expect(second).toEqual({ filesUploaded: 0, filesUnchanged: 33, rowsInserted: 0 });
  });
});
