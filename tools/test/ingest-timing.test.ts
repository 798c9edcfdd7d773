// Pure timing and layout decisions of the ingest pipeline: frame rate, keyframe plan, audio length, sprite grid.
import { describe, expect, it } from "vitest";
import { spriteLayout, thumbnailsVtt } from "../ingest/thumbnails.ts";
import {
  DEFAULT_SEGMENT_PLAN,
  audioSampleCount,
  frameCount,
  keyframePlan,
  outputFrameRate,
  rate,
} from "../ingest/timing.ts";

describe("outputFrameRate", () => {
  it.each([
    ["30000/1001", false, "30000/1001"],
    ["25/1", false, "25/1"],
    ["120/1", false, "60/1"],
    ["120000/1001", false, "60000/1001"],
    ["3600/149", true, "24/1"],
    ["2987/100", true, "30000/1001"],
    ["26/1", true, "30/1"],
    ["5/1", true, "24/1"],
    ["90/1", true, "60/1"],
  ])("turns %s (variable: %s) into %s", (fraction, variableFrameRate, expected) => {
    const fps = outputFrameRate({ frameRateFraction: fraction, variableFrameRate });
    expect(`${fps.num}/${fps.den}`).toBe(expected);
  });
});

describe("keyframePlan", () => {
  it("starts with two 2 s segments, then 4 s ones", () => {
    const fps = rate(24, 1);
    const plan = keyframePlan(frameCount(20, fps), fps, DEFAULT_SEGMENT_PLAN);
    expect(plan.segmentStarts).toEqual([0, 48, 96, 192, 288, 384]);
    expect(plan.longestSegmentFrames).toBe(96);
  });

  it("lands on the next frame when a start falls between frames (29.97 fps)", () => {
    const fps = rate(30000, 1001);
    expect(keyframePlan(frameCount(16, fps), fps, DEFAULT_SEGMENT_PLAN).segmentStarts).toEqual([0, 60, 120, 240, 360]);
  });

  it("merges a final segment shorter than 1 s into the one before, and keeps one of exactly 1 s", () => {
    const fps = rate(25, 1);
    expect(keyframePlan(frameCount(8.5, fps), fps, DEFAULT_SEGMENT_PLAN).segmentStarts).toEqual([0, 50, 100]);
    expect(keyframePlan(frameCount(9, fps), fps, DEFAULT_SEGMENT_PLAN).segmentStarts).toEqual([0, 50, 100, 200]);
  });

  it("gives a title shorter than two segments a single keyframe", () => {
    const fps = rate(30, 1);
    expect(keyframePlan(frameCount(1.5, fps), fps, DEFAULT_SEGMENT_PLAN).segmentStarts).toEqual([0]);
  });

  it("writes the plan as a frame-number expression for -force_key_frames", () => {
    const fps = rate(24, 1);
    const plan = keyframePlan(frameCount(12, fps), fps, { ...DEFAULT_SEGMENT_PLAN, segmentSec: 2 });
    expect(plan.segmentStarts).toEqual([0, 48, 96, 144, 192, 240]);
    expect(plan.forceKeyFrames).toBe("expr:gte(n,ceil(if(lt(n_forced,2),n_forced*2,4+(n_forced-2)*2)*24-0.25))*lte(n,264)");
  });
});

describe("audioSampleCount", () => {
  it("keeps whole AAC frames ending no later than the video", () => {
    expect(audioSampleCount(288, rate(24, 1), 48_000)).toBe(562 * 1024);
    const samples = audioSampleCount(480, rate(30000, 1001), 48_000);
    expect(samples % 1024).toBe(0);
    expect(samples / 48_000).toBeLessThanOrEqual(480 / (30000 / 1001));
    expect(480 / (30000 / 1001) - samples / 48_000).toBeLessThan(1024 / 48_000);
  });
});

describe("spriteLayout", () => {
  it("puts a short landscape title's 2 s tiles of 160x90 in one row", () => {
    expect(spriteLayout({ width: 1280, height: 720 }, 12)).toEqual({ width: 160, height: 90, intervalSec: 2, tiles: 6, columns: 6, rows: 1 });
  });

  it("fits a portrait picture's tile in 160 px of height", () => {
    expect(spriteLayout({ width: 1080, height: 1920 }, 10)).toMatchObject({ width: 90, height: 160 });
  });

  it("widens the interval of a 2-hour film so the grid stays within 4096 px a side", () => {
    const layout = spriteLayout({ width: 1920, height: 1080 }, 7200);
    expect(layout).toEqual({ width: 160, height: 90, intervalSec: 7, tiles: 1029, columns: 25, rows: 42 });
    expect(layout.columns * layout.width).toBeLessThanOrEqual(4096);
    expect(layout.rows * layout.height).toBeLessThanOrEqual(4096);
  });

  it("maps each interval to its tile, row by row, with the last cue ending at the title's end", () => {
    const layout = spriteLayout({ width: 1920, height: 1080 }, 61);
    const vtt = thumbnailsVtt(layout, 61, "sprite.jpg");
    const cues = vtt.split("\n\n").slice(1);
    expect(cues).toHaveLength(31);
    expect(cues[0]).toBe("00:00:00.000 --> 00:00:02.000\nsprite.jpg#xywh=0,0,160,90");
    expect(cues[26]).toBe("00:00:52.000 --> 00:00:54.000\nsprite.jpg#xywh=160,90,160,90");
    expect(cues[30]).toBe("00:01:00.000 --> 00:01:01.000\nsprite.jpg#xywh=800,90,160,90\n");
  });
});
