// Skip-segment detection (tools/ingest/segments/): the matcher on made-up items, the
// ffmpeg log parsers on real and hostile lines, both fingerprints against a known offset,
// and the whole chain (generate a season → analyse → detect) against the generator's truth,
// with real ffmpeg.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_VISIBLE_CONFIDENCE, decodeFingerprint, episodeAnalysisSchema, skipSegmentSetSchema, type EpisodeAnalysis } from "../../lib/skip-segments.ts";
import { ffmpeg } from "../ingest/ffmpeg.ts";
import { analysisRanges, analyzeEpisode } from "../ingest/segments/analyze.ts";
import { detectFilm, detectSeason } from "../ingest/segments/detect-season.ts";
import { chromaprintAvailable, fingerprintRange } from "../ingest/segments/fingerprint.ts";
import { blankItems, findSharedSpans, indexItems, longestSharedSpan, popcount32 } from "../ingest/segments/match.ts";
import { pcmFingerprint } from "../ingest/segments/pcm-fingerprint.ts";
import { parseBlackLine, parsePictureLog, parseSceneLine } from "../ingest/segments/picture.ts";
import { FINGERPRINT_PROFILES, type FingerprintAlgorithm } from "../ingest/segments/profiles.ts";
import { scoreEpisode, sumScores } from "../ingest/segments/score.ts";
import { makeSyntheticSeason, syntheticSeasonTruth } from "../ingest/segments/synthetic-season.ts";

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s ^= s >>> 13;
    return s >>> 0;
  };
}

function randomItems(n: number, seed: number): Uint32Array {
  const next = random(seed);
  return Uint32Array.from({ length: n }, () => next());
}

/** `items` with `bits` random bits flipped in each (a re-encoded copy of the same sound). */
function noisy(items: Uint32Array, bits: number, seed: number): Uint32Array {
  const next = random(seed);
  return items.map((x) => {
    let y = x;
    for (let k = 0; k < bits; k++) y ^= 1 << next() % 32;
    return y >>> 0;
  });
}

describe("match: shared spans of two fingerprints", () => {
  it("counts bits", () => {
    expect([0, 1, 0xffffffff, 0x80000000, 0x0f0f0f0f].map(popcount32)).toEqual([0, 1, 32, 1, 16]);
  });

  it("finds a copied stretch at the right offsets, with its bits disturbed", () => {
    const a = randomItems(3000, 1);
    const b = randomItems(2500, 2);
    b.set(noisy(a.subarray(500, 650), 3, 3), 1200);
    const span = longestSharedSpan(indexItems(a), indexItems(b), { minSpanItems: 40 });
    expect(span).not.toBeNull();
    expect(span!.offset).toBe(700);
    expect(Math.abs(span!.aStart - 500)).toBeLessThanOrEqual(1);
    expect(Math.abs(span!.aEnd - 649)).toBeLessThanOrEqual(1);
    expect(span!.density).toBeGreaterThan(0.9);
  });

  it("finds several shared stretches, longest first", () => {
    const a = randomItems(4000, 4);
    const b = randomItems(4000, 5);
    b.set(a.subarray(100, 400), 3000);
    b.set(a.subarray(2000, 2100), 500);
    const spans = findSharedSpans(indexItems(a), indexItems(b), { minSpanItems: 40 });
    expect(spans.map((s) => [s.aStart, s.aEnd, s.offset])).toEqual([
      [100, 399, 2900],
      [2000, 2099, -1500],
    ]);
  });

  it("bridges a short gap but not a long one", () => {
    const a = randomItems(2000, 6);
    const b = randomItems(2000, 7);
    b.set(a.subarray(200, 300), 1200);
    b.set(a.subarray(308, 400), 1308); // 8 unlike items between
    b.set(a.subarray(460, 560), 1460); // 60 unlike items before this one
    const spans = findSharedSpans(indexItems(a), indexItems(b), { minSpanItems: 40, maxGapItems: 12 });
    // An edge may take in one neighbour that happens to be alike (1 in 40 random pairs are).
    expect(spans).toHaveLength(2);
    const ends = spans.map((s) => [s.aStart, s.aEnd]).flat();
    [200, 399, 460, 559].forEach((want, i) => expect(Math.abs(ends[i]! - want)).toBeLessThanOrEqual(1));
  });

  it("finds nothing between unrelated fingerprints", () => {
    for (let seed = 10; seed < 20; seed++) {
      const spans = findSharedSpans(indexItems(randomItems(10_000, seed)), indexItems(randomItems(10_000, seed + 100)), { minSpanItems: 40, maxBitErrors: 10 });
      expect(spans).toEqual([]);
    }
  });

  it("never matches silence with silence", () => {
    const silence = new Uint32Array(2000);
    const held = new Uint32Array(2000).fill(0x256df977);
    expect(blankItems(held).every((x) => x === 1)).toBe(true);
    expect(findSharedSpans(indexItems(silence), indexItems(silence), { minSpanItems: 10 })).toEqual([]);
    expect(findSharedSpans(indexItems(held), indexItems(held), { minSpanItems: 10 })).toEqual([]);
  });

  it("matches a season of 20-minute heads in well under a second per pair", () => {
    const items = Math.ceil(1200 / FINGERPRINT_PROFILES.chromaprint.itemSec);
    const intro = randomItems(160, 99);
    const heads = Array.from({ length: 10 }, (_, k) => {
      const head = randomItems(items, 1000 + k);
      head.set(noisy(intro, 2, k), 300 + 37 * k);
      return indexItems(head);
    });
    let worst = 0;
    for (let i = 0; i < heads.length; i++) {
      for (let j = i + 1; j < heads.length; j++) {
        const t0 = performance.now();
        const span = longestSharedSpan(heads[i]!, heads[j]!, { minSpanItems: 60, maxBitErrors: 6 });
        worst = Math.max(worst, performance.now() - t0);
        expect(span?.offset).toBe(37 * (j - i));
      }
    }
    expect(worst).toBeLessThan(250);
  });
});

describe("picture: blackdetect and scdet log lines", () => {
  it("reads real lines", () => {
    expect(parseBlackLine("[blackdetect @ 0x5565fba48800] black_start:3 black_end:5.8 black_duration:2.8")).toEqual({ startSec: 3, endSec: 5.8 });
    expect(parseSceneLine("[scdet @ 0x5565fba47a80] lavfi.scd.score: 33.821, lavfi.scd.time: 3")).toEqual({ score: 33.821, timeSec: 3 });
  });

  it.each([
    "[blackdetect @ 0x1] black_start:-1 black_end:5 black_duration:6",
    "[blackdetect @ 0x1] black_start:1e3 black_end:2e3 black_duration:1e3",
    "[blackdetect @ 0x1] black_start:5 black_end:3 black_duration:-2",
    "[blackdetect @ 0x1] black_start:1 black_end:3 black_duration:9",
    "[blackdetect @ 0x1] black_start:1 black_end:3 black_duration:2 extra",
    " [blackdetect @ 0x1] black_start:1 black_end:3 black_duration:2",
    "    title           : [blackdetect @ 0x1] black_start:1 black_end:3 black_duration:2",
    "[blackdetect @ 0x1] black_start:NaN black_end:Infinity black_duration:Infinity",
    "[blackdetect @ 0x1] black_start:１ black_end:３ black_duration:２",
    "[blackdetect @ 0xZZ] black_start:1 black_end:3 black_duration:2",
    "[blackdetect @ 0x1] black_start:1 black_end:3",
    `[blackdetect @ 0x1] black_start:${"9".repeat(400)} black_end:3 black_duration:2`,
    "",
  ])("refuses %j", (line) => {
    expect(parseBlackLine(line)).toBeNull();
  });

  it.each([
    "[scdet @ 0x1] lavfi.scd.score: 101, lavfi.scd.time: 3",
    "[scdet @ 0x1] lavfi.scd.score: 20, lavfi.scd.time: -3",
    "[scdet @ 0x1] lavfi.scd.score: 20,lavfi.scd.time: 3",
    "[scdet @ 0x1] lavfi.scd.score: 20, lavfi.scd.time: 3\u0000",
    "[scdetx @ 0x1] lavfi.scd.score: 20, lavfi.scd.time: 3",
  ])("refuses %j", (line) => {
    expect(parseSceneLine(line)).toBeNull();
  });

  it("gives up on a huge line at once instead of backtracking", () => {
    const line = `[blackdetect @ 0x1] black_start:${"1".repeat(100_000)}.`;
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) parseBlackLine(line);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it("reads a whole log: offsets to media time, drops forged, out-of-range and out-of-order reports", () => {
    const log = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':",
      "  Metadata:",
      "    comment         : hi",
      "                    : [blackdetect @ 0x1] black_start:0 black_end:50 black_duration:50",
      "Stream mapping:",
      "[scdet @ 0x55d0] lavfi.scd.score: 33.821, lavfi.scd.time: 12.4\r",
      "[blackdetect @ 0x55d1] black_start:12.4 black_end:20 black_duration:7.6",
      "[scdet @ 0x55d0] lavfi.scd.score: 40, lavfi.scd.time: 11",
      "[blackdetect @ 0x55d1] black_start:15 black_end:18 black_duration:3",
      "[scdet @ 0x55d0] lavfi.scd.score: 40, lavfi.scd.time: 25",
      "[blackdetect @ 0x55d1] black_start:50 black_end:59.8 black_duration:9.8",
      "[blackdetect @ 0x55d1] black_start:58 black_end:90 black_duration:32",
      "frame=  300 fps=0.0 q=-0.0 Lsize=N/A time=00:01:00.00 bitrate=N/A speed= 968x",
    ].join("\n");
    expect(parsePictureLog(log, 600, 60)).toEqual({
      darkSpans: [
        { startSec: 612.4, endSec: 620 },
        { startSec: 650, endSec: 659.8 },
      ],
      sceneChanges: [612.4, 625],
    });
  });
});

describe("analysis ranges", () => {
  it("splits head and tail without overlap", () => {
    expect(analysisRanges(90)).toEqual({ head: { startSec: 0, durationSec: 30 }, tail: { startSec: 30, durationSec: 60 } });
    expect(analysisRanges(45 * 60)).toEqual({ head: { startSec: 0, durationSec: 900 }, tail: { startSec: 2100, durationSec: 600 } });
    expect(analysisRanges(3 * 3600)).toEqual({ head: { startSec: 0, durationSec: 1200 }, tail: { startSec: 10_200, durationSec: 600 } });
  });
});

describe("fingerprints of real audio", () => {
  let dir: string;
  let file: string;
  const lengthSec = 520;
  const hasChromaprint = chromaprintAvailable();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "marquee-fp-test-"));
    file = path.join(dir, "tune.m4a");
    const tune = "st(0,2*PI*(180*pow(2,mod(floor(5*floor(t*4)+7*sin(floor(t*4)*1.3)),14)/12))*t);0.3*exp(-3*mod(t,0.25))*(sin(ld(0))+0.5*sin(2*ld(0)))";
    await ffmpeg([
      "-filter_complex", `aevalsrc=exprs='${tune}':s=11025:d=${lengthSec}[t];anoisesrc=r=11025:c=pink:seed=5:a=0.05:d=${lengthSec}[n];[t][n]amix=inputs=2:normalize=0[a]`,
      "-map", "[a]", "-c:a", "aac", "-b:a", "64k", "-y", file,
    ]);
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("probes ffmpeg for the chromaprint muxer", async () => {
    const muxers = spawnSync("ffmpeg", ["-hide_banner", "-muxers"], { encoding: "utf8" }).stdout;
    expect(await hasChromaprint).toBe(/^ [ D]E chromaprint /m.test(muxers));
  });

  it.for(["chromaprint", "marquee-pcm"] as FingerprintAlgorithm[])("%s: the item step matches known offsets", async (algorithm, ctx) => {
    if (algorithm === "chromaprint" && !(await hasChromaprint)) ctx.skip();
    const { itemSec, windowSec, maxBitErrors } = FINGERPRINT_PROFILES[algorithm];
    const whole = await fingerprintRange(file, { startSec: 0, durationSec: lengthSec, algorithm });
    expect(whole.itemSec).toBe(itemSec);
    // n items cover (n - 1) steps and one window.
    expect(Math.abs((whole.items.length - 1) * itemSec + windowSec - lengthSec)).toBeLessThan(2 * itemSec);
    for (const offsetSec of [21.37, 500]) {
      const late = await fingerprintRange(file, { startSec: offsetSec, durationSec: 20, algorithm });
      const span = longestSharedSpan(indexItems(late.items), indexItems(whole.items), { maxBitErrors });
      expect(span).not.toBeNull();
      expect(span!.density).toBeGreaterThan(0.9);
      // late's item i is whole's item i + offset, found to half an item: at 500 s that
      // tells 1365-sample steps (4038.5 items) from 4096/3 (4037.5).
      expect(Math.abs(span!.offset - offsetSec / itemSec)).toBeLessThanOrEqual(0.5);
    }
  });

  it("marquee-pcm: silence is item 0, a tone is not", () => {
    expect(pcmFingerprint(new Int16Array(11025 * 3)).every((x) => x === 0)).toBe(true);
    const tone = Int16Array.from({ length: 11025 * 3 }, (_, i) => Math.round(8000 * Math.sin(i * 0.3) + ((i * 7919) % 200) - 100));
    const items = pcmFingerprint(tone);
    expect(items.length).toBe(Math.floor((tone.length - 4096) / 1024));
    expect(items.some((x) => x !== 0)).toBe(true);
  });
});

describe("a synthetic season, end to end", () => {
  let dir: string;
  let season: Awaited<ReturnType<typeof makeSyntheticSeason>>;
  const options = { episodes: 3, seed: 11 };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "marquee-season-test-"));
    season = await makeSyntheticSeason(dir, options);
  }, 180_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is what its plan says", () => {
    expect(season.files).toHaveLength(3);
    expect(season.truth).toEqual(syntheticSeasonTruth(options));
    expect(syntheticSeasonTruth(options)).toEqual(syntheticSeasonTruth(options));
    expect(syntheticSeasonTruth({ ...options, seed: 12 })).not.toEqual(syntheticSeasonTruth(options));
    expect(season.truth.map((t) => t.map((s) => s.kind))).toEqual([["intro", "credits"], ["recap", "intro", "credits"], ["recap", "intro", "credits"]]);
  });

  for (const algorithm of ["chromaprint", "marquee-pcm"] as FingerprintAlgorithm[]) {
    it(`${algorithm}: finds every boundary within ±1 s, and nothing else`, async (ctx) => {
      if (algorithm === "chromaprint" && !(await chromaprintAvailable())) ctx.skip();
      const progress: number[] = [];
      const analyses: EpisodeAnalysis[] = [];
      for (const [i, file] of season.files.entries()) {
        analyses.push(await analyzeEpisode(file, { assetId: `synthetic-${i + 1}`, forceFallback: algorithm === "marquee-pcm", onProgress: (f) => progress.push(f) }));
      }
      expect(analyses.every((a) => a.fingerprint.algorithm === algorithm)).toBe(true);
      expect(progress[progress.length - 1]).toBe(1);
      // Stored and read back, as a later re-detection would.
      const stored = analyses.map((a) => episodeAnalysisSchema.parse(JSON.parse(JSON.stringify(a))));
      const detected = detectSeason(stored);
      expect(detected).toHaveLength(3);
      const scores = detected.map((found, i) => {
        expect(skipSegmentSetSchema.safeParse(found).success).toBe(true);
        for (const s of found) {
          expect(s.source).toBe("detected");
          expect(s.confidence).toBeGreaterThanOrEqual(MIN_VISIBLE_CONFIDENCE);
        }
        return scoreEpisode(season.truth[i]!, found);
      });
      for (const kind of sumScores(scores)) {
        expect({ kind: kind.kind, found: kind.detected, hits: kind.truePositives }).toEqual({ kind: kind.kind, found: kind.truth, hits: kind.truth });
      }
      // Unrelated sound shares nothing: episode 1's head (its cold open, the intro, its
      // first scenes) and episode 3's tail (its own scenes, the credits).
      const head1 = indexItems(decodeFingerprint(stored[0]!.fingerprint.head.data));
      const tail3 = indexItems(decodeFingerprint(stored[2]!.fingerprint.tail.data));
      expect(findSharedSpans(head1, tail3, { maxBitErrors: FINGERPRINT_PROFILES[algorithm].maxBitErrors, minSpanItems: Math.round(5 / FINGERPRINT_PROFILES[algorithm].itemSec) })).toEqual([]);
      // A lone episode (or a film): credits from the picture only, less sure.
      const film = detectFilm(stored[0]!);
      expect(film.map((s) => s.kind)).toEqual(["credits"]);
      expect(Math.abs(film[0]!.startSec - season.truth[0]!.find((s) => s.kind === "credits")!.startSec)).toBeLessThanOrEqual(1);
      expect(film[0]!.confidence).toBeLessThan(detected[0]!.find((s) => s.kind === "credits")!.confidence);
    }, 120_000);
  }
});
