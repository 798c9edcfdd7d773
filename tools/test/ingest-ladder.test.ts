// The per-title ladder: classes by the short side, never upscaled, even sizes, bitrates scaled by complexity.
import { describe, expect, it } from "vitest";
import { BASE_KBPS, chooseLadder, makeRung, type Rung } from "../ingest/ladder.ts";

const dims = (ladder: Rung[]) => ladder.map((r) => `${r.width}x${r.height}`);

describe("chooseLadder", () => {
  it("gives a 1080p source every class up to 1080p, lowest first, at the base bitrates for factor 1", () => {
    const ladder = chooseLadder({ width: 1920, height: 1080 }, 1);
    expect(ladder.map((r) => r.id)).toEqual(["240p", "360p", "480p", "720p", "1080p"]);
    expect(dims(ladder)).toEqual(["426x240", "640x360", "854x480", "1280x720", "1920x1080"]);
    expect(ladder.map((r) => r.kbps)).toEqual([250, 500, 900, 2000, 3800]);
  });

  it("gives a 4K source all seven classes", () => {
    expect(chooseLadder({ width: 3840, height: 2160 }, 1).map((r) => r.id)).toEqual([
      "240p", "360p", "480p", "720p", "1080p", "1440p", "2160p",
    ]);
  });

  it.each([
    [{ width: 1280, height: 720 }, "720p"],
    [{ width: 1000, height: 562 }, "480p"],
    [{ width: 1920, height: 1079 }, "720p"],
    [{ width: 640, height: 360 }, "360p"],
    [{ width: 426, height: 240 }, "240p"],
  ])("never upscales: %j tops out at %s", (source, top) => {
    const ladder = chooseLadder(source, 1);
    expect(ladder.at(-1)!.id).toBe(top);
    for (const rung of ladder) {
      expect(rung.width).toBeLessThanOrEqual(source.width);
      expect(rung.height).toBeLessThanOrEqual(source.height);
    }
  });

  it("classes a portrait source by its short side: 1080x1920 tops out at the 1080 class, 1080x1920", () => {
    const ladder = chooseLadder({ width: 1080, height: 1920 }, 1);
    expect(ladder.map((r) => r.id)).toEqual(["240p", "360p", "480p", "720p", "1080p"]);
    expect(dims(ladder)).toEqual(["240x426", "360x640", "480x854", "720x1280", "1080x1920"]);
  });

  it("treats a square source's side as its short side", () => {
    expect(dims(chooseLadder({ width: 1080, height: 1080 }, 1)).at(-1)).toBe("1080x1080");
  });

  it("makes odd sources even without upscaling: 641x361 tops out at 640x360", () => {
    expect(dims(chooseLadder({ width: 641, height: 361 }, 1))).toEqual(["426x240", "640x360"]);
  });

  it("gives a source smaller than the smallest class one rung at its own even size", () => {
    expect(chooseLadder({ width: 320, height: 180 }, 1)).toEqual([
      { id: "180p", width: 320, height: 180, kbps: expect.any(Number), maxrateKbps: expect.any(Number), bufsizeKbps: expect.any(Number) },
    ]);
    expect(dims(chooseLadder({ width: 321, height: 181 }, 1))).toEqual(["320x180"]);
    expect(dims(chooseLadder({ width: 181, height: 321 }, 1))).toEqual(["180x320"]);
    expect(dims(chooseLadder({ width: 3, height: 3 }, 1))).toEqual(["2x2"]);
  });

  it("scales a tiny rung's bitrate with its area, never below a floor", () => {
    const [tiny] = chooseLadder({ width: 320, height: 180 }, 1);
    expect(tiny!.kbps).toBeLessThan(BASE_KBPS.get(240)!);
    expect(chooseLadder({ width: 16, height: 16 }, 1)[0]!.kbps).toBe(50);
  });

  it("keeps every size even and the aspect within a pixel of the source", () => {
    for (const [width, height] of [[1920, 1080], [1440, 1080], [1920, 800], [719, 405], [1081, 1921], [3000, 2000], [500, 501]] as const) {
      for (const rung of chooseLadder({ width, height }, 1)) {
        expect(rung.width % 2, `${width}x${height} -> ${rung.id}`).toBe(0);
        expect(rung.height % 2, `${width}x${height} -> ${rung.id}`).toBe(0);
        const exactLong = width >= height ? (rung.height * width) / height : (rung.width * height) / width;
        const long = width >= height ? rung.width : rung.height;
        expect(Math.abs(long - exactLong), `${width}x${height} -> ${rung.id}`).toBeLessThanOrEqual(1.5);
      }
    }
  });

  it("scales bitrates with the complexity factor", () => {
    const base = chooseLadder({ width: 1280, height: 720 }, 1);
    const complex = chooseLadder({ width: 1280, height: 720 }, 1.5);
    const simple = chooseLadder({ width: 1280, height: 720 }, 0.5);
    expect(dims(complex)).toEqual(dims(base));
    expect(complex.map((r) => r.kbps)).toEqual(base.map((r) => Math.round(r.kbps * 1.5)));
    expect(simple.map((r) => r.kbps)).toEqual(base.map((r) => Math.round(r.kbps * 0.5)));
  });

  it("clamps the factor to [0.35, 2], and treats a non-number as 1", () => {
    const kbps = (factor: number) => chooseLadder({ width: 1280, height: 720 }, factor).at(-1)!.kbps;
    expect(kbps(0.01)).toBe(Math.round(2000 * 0.35));
    expect(kbps(7)).toBe(4000);
    expect(kbps(Number.NaN)).toBe(2000);
  });

  it("pairs every target with VBV limits of 1.5x (peak) and 2x (buffer)", () => {
    for (const rung of chooseLadder({ width: 1920, height: 1080 }, 1.2)) {
      expect(rung.maxrateKbps).toBe(Math.round(rung.kbps * 1.5));
      expect(rung.bufsizeKbps).toBe(rung.kbps * 2);
    }
    expect(makeRung("720p", 1280, 720, 400.4)).toEqual({ id: "720p", width: 1280, height: 720, kbps: 400, maxrateKbps: 600, bufsizeKbps: 800 });
  });
});
