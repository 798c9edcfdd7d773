// packageAsset end to end on clips ffmpeg makes here: per-title ladders, odd shapes, and every bad input refused.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renditionIndexSchema, type RenditionIndex } from "../../lib/media-index.ts";
import { IngestInputError } from "../ingest/errors.ts";
import { packageAsset, type PackageProgress, type PackageRequest, type PackageResult } from "../ingest/package-asset.ts";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status === 0;
const isCI = process.env.CI === "true" || process.env.CI === "1";

let dir = "";
const clip = (name: string) => path.join(dir, name);

function ffmpeg(...args: string[]): void {
  const result = spawnSync("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(result.stderr);
}

/** A tone under the picture, so the clip has an audio track. */
const TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=4"];
const H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"];

/** Few-second, small clips; each named for what it exercises. */
function makeClips(): void {
  // A test card that barely moves (only its counter) against the mandelbrot zoom: easy vs hard to compress.
  ffmpeg("-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=4", ...TONE, ...H264, "-c:a", "aac", "-shortest", clip("simple.mp4"));
  ffmpeg("-f", "lavfi", "-i", "mandelbrot=size=640x360:rate=25", ...TONE, "-t", "4", ...H264, "-c:a", "aac", clip("complex.mp4"));
  // Landscape pixels with a display matrix: ffmpeg 5.1 has no -display_rotation, but a stream
  // copy with the rotate tag writes the matrix (it turns the picture counter-clockwise).
  ffmpeg("-f", "lavfi", "-i", "testsrc2=size=480x270:rate=25:duration=3", ...TONE, "-t", "3", ...H264, "-c:a", "aac", clip("landscape.mp4"));
  ffmpeg("-i", clip("landscape.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", clip("rotated.mp4"));
  ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=3", ...H264, clip("silent.mp4"));
  // x264 cannot store odd sizes in 4:2:0; FFV1 in Matroska can.
  ffmpeg("-f", "lavfi", "-i", "testsrc2=size=321x181:rate=25:duration=3", "-c:v", "ffv1", clip("odd.mkv"));
  // Variable frame rate: every 5th frame of a 30 fps picture dropped, timestamps kept
  // (passthrough), so frames are 33 or 67 ms apart: r_frame_rate 30, avg_frame_rate ~24.
  ffmpeg(
    "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=4,select='not(eq(mod(n\\,5)\\,4))'",
    ...TONE, "-t", "4", "-fps_mode", "passthrough", ...H264, "-c:a", "aac", clip("vfr.mp4"),
  );
  // Bad inputs.
  ffmpeg(...TONE, "-c:a", "aac", clip("audio-only.m4a"));
  ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=0.5", ...H264, clip("half-second.mp4"));
  ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4", ...TONE, ...H264, "-c:a", "aac", clip("moov-last.mp4"));
  ffmpeg("-i", clip("moov-last.mp4"), "-c", "copy", "-movflags", "+faststart", clip("moov-first.mp4"));
}

async function truncatedCopy(name: string): Promise<string> {
  const out = clip(`truncated-${name}`);
  await writeFile(out, await readFile(clip(name)));
  await truncate(out, Math.floor((await stat(out)).size / 2));
  return out;
}

async function pack(input: string, extra: Partial<PackageRequest> = {}): Promise<PackageResult> {
  return packageAsset({ input: { kind: "file", path: input }, assetId: "test-asset", outDir: clip(`out-${path.basename(input)}-${extra.jobs ?? "auto"}`), ...extra });
}

async function refusal(input: string, extra: Partial<PackageRequest> = {}): Promise<IngestInputError> {
  const outDir = clip(`refused-${path.basename(input)}`);
  const error = await packageAsset({ input: { kind: "file", path: input }, assetId: "test-asset", outDir, ...extra }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IngestInputError);
  // Nothing half-made is left behind to be uploaded.
  expect(existsSync(outDir)).toBe(false);
  return error as IngestInputError;
}

async function hashes(root: string, sub = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(path.join(root, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(out, await hashes(root, rel));
    else out[rel] = createHash("sha256").update(await readFile(path.join(root, rel))).digest("hex");
  }
  return out;
}

function seconds(segments: { durations: number[]; timescale: number }): number[] {
  return segments.durations.map((d) => Math.round((d / segments.timescale) * 1000) / 1000);
}

function probeSize(file: string): string {
  return spawnSync("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0:s=x", file], { encoding: "utf8" }).stdout.trim();
}

/** What every packaged asset must be, whatever its source. */
async function expectWellFormed(result: PackageResult): Promise<RenditionIndex> {
  const index = renditionIndexSchema.parse(JSON.parse(await readFile(path.join(result.dir, "index.json"), "utf8")));
  const onDisk = await hashes(result.dir);
  expect(Object.keys(onDisk).filter((f) => f !== "index.json").sort()).toEqual(index.files.map((f) => f.path).sort());
  for (const file of index.files) expect(onDisk[file.path], file.path).toBe(file.sha256);
  const [first, ...others] = index.video.map((v) => seconds(v.segments));
  for (const other of others) expect(other).toEqual(first);
  for (const track of index.audio) expect(seconds(track.segments)).toHaveLength(first!.length);
  for (const rendition of index.video) {
    expect(rendition.width % 2).toBe(0);
    expect(rendition.height % 2).toBe(0);
  }
  const { thumbnails } = index;
  const columns = Math.min(Math.ceil(index.durationSec / thumbnails!.intervalSec), Math.floor(4096 / thumbnails!.width));
  expect(probeSize(path.join(result.dir, thumbnails!.sprite))).toBe(`${columns * thumbnails!.width}x${thumbnails!.height}`);
  expect(probeSize(path.join(result.dir, index.poster!))).toMatch(/^\d+x\d+$/);
  return index;
}

describe.runIf(hasFfmpeg || isCI)("packageAsset", () => {
  beforeAll(async () => {
    expect(hasFfmpeg, "ffmpeg is required under CI: sudo apt-get install -y ffmpeg").toBe(true);
    dir = await mkdtemp(path.join(tmpdir(), "marquee-ingest-test-"));
    makeClips();
  }, 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("measures the complex clip as harder and gives it higher bitrates on the same ladder shape", async () => {
    const srt = clip("en.srt");
    await writeFile(srt, "\uFEFF1\r\n00:00:00,500 --> 00:00:02,000\r\n<i>Hello</i>\r\n");
    const progress: PackageProgress[] = [];
    const simple = await pack(clip("simple.mp4"), {
      subtitles: [{ lang: "en", name: "English", path: srt }],
      onProgress: (p) => progress.push(p),
    });
    const complex = await pack(clip("complex.mp4"));
    const simpleIndex = await expectWellFormed(simple);
    await expectWellFormed(complex);

    expect(complex.report.complexity!.factor).toBeGreaterThan(simple.report.complexity!.factor * 3);
    expect(simple.report.ladder.map((r) => r.id)).toEqual(["240p", "360p"]);
    expect(complex.report.ladder.map((r) => `${r.id} ${r.width}x${r.height}`)).toEqual(simple.report.ladder.map((r) => `${r.id} ${r.width}x${r.height}`));
    for (const [i, rung] of complex.report.ladder.entries()) expect(rung.kbps).toBeGreaterThan(simple.report.ladder[i]!.kbps);
    expect(complex.index.video.at(-1)!.averageBandwidth).toBeGreaterThan(simple.index.video.at(-1)!.averageBandwidth * 2);

    expect(simpleIndex.audio.map((a) => [a.id, a.codecs, a.channels, a.sampleRate])).toEqual([["audio-und", "mp4a.40.2", 2, 48_000]]);
    expect(simpleIndex.video.map((v) => v.codecs.slice(0, 7))).toEqual(["avc1.64", "avc1.64"]);
    expect(simpleIndex.subtitles).toEqual([{ lang: "en", name: "English", path: "subs/en.vtt", default: false }]);
    expect(await readFile(path.join(simple.dir, "subs/en.vtt"), "utf8")).toBe("WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\n<i>Hello</i>\n");

    const phases = progress.map((p) => p.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(["probe", "complexity", "encode", "thumbnails"]);
    expect(progress.filter((p) => p.phase === "encode").at(-1)).toMatchObject({ fraction: 1 });
  }, 60_000);

  it("writes byte-identical output whether the ladder is encoded in one ffmpeg run or two", async () => {
    const one = await pack(clip("simple.mp4"), { jobs: 1 });
    const two = await pack(clip("simple.mp4"), { jobs: 2 });
    expect(two.report.jobs).toBe(2);
    expect(await hashes(two.dir)).toEqual(await hashes(one.dir));
  }, 60_000);

  it("shows a rotated clip upright: portrait renditions classed by their short side", async () => {
    const result = await pack(clip("rotated.mp4"));
    expect(result.report.source).toMatchObject({ width: 270, height: 480, rotation: 270 });
    const index = await expectWellFormed(result);
    expect(index.video.map((v) => `${v.id} ${v.width}x${v.height}`)).toEqual(["240p 240x426"]);
    expect(probeSize(path.join(result.dir, "poster.jpg"))).toBe("240x426");
    expect(index.thumbnails).toMatchObject({ width: 90, height: 160 });
  }, 60_000);

  it("packages a clip without audio with no audio track", async () => {
    const index = await expectWellFormed(await pack(clip("silent.mp4")));
    expect(index.audio).toEqual([]);
    expect(index.video.map((v) => v.id)).toEqual(["180p"]);
  }, 60_000);

  it("makes an odd-sized clip even", async () => {
    const index = await expectWellFormed(await pack(clip("odd.mkv")));
    expect(index.video.map((v) => `${v.width}x${v.height}`)).toEqual(["320x180"]);
  }, 60_000);

  it("gives a variable-frame-rate clip a constant rate: its average, snapped to 24", async () => {
    const result = await pack(clip("vfr.mp4"));
    expect(result.report.source.variableFrameRate).toBe(true);
    expect(result.report.frameRate).toBe(24);
    const index = await expectWellFormed(result);
    const [rendition] = index.video;
    expect(rendition!.frameRate).toBe(24);
    // Every segment a whole number of 24 fps frames, the first two exactly 2 s.
    for (const d of rendition!.segments.durations) expect(((d / rendition!.segments.timescale) * 24) % 1).toBeCloseTo(0, 6);
    expect(seconds(rendition!.segments).slice(0, 1)).toEqual([2]);
  }, 60_000);

  describe("refuses", () => {
    it.each([
      ["a missing file", "missing.mp4", "INPUT_NOT_FOUND", "does not exist"],
      ["a text file named .mp4", "notes.mp4", "NOT_A_VIDEO", "is not a video file"],
      ["an audio-only file", "audio-only.m4a", "NO_VIDEO_STREAM", "has no video stream"],
      ["a still image", "still.png", "STILL_IMAGE", "is a still image, not a video"],
      ["a half-second clip", "half-second.mp4", "TOO_SHORT", "is shorter than 1 second"],
    ])("%s", async (_name, file, code, message) => {
      if (file === "notes.mp4") await writeFile(clip(file), "These are my notes, not a video.\n");
      if (file === "still.png") ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x36", "-frames:v", "1", clip(file));
      const error = await refusal(clip(file));
      expect(error.code).toBe(code);
      expect(error.message).toBe(`${clip(file)} ${message}`);
    });

    it.each([["moov-last.mp4"], ["moov-first.mp4"]])("an mp4 (%s) truncated to half its size", async (name) => {
      const truncated = await truncatedCopy(name);
      const error = await refusal(truncated);
      expect(error).toMatchObject({ code: "CORRUPT", message: `${truncated} is truncated or corrupt` });
    }, 60_000);

    it("an unreadable subtitle file, before encoding anything", async () => {
      const missing = clip("missing.srt");
      const progress: PackageProgress[] = [];
      const error = await refusal(clip("simple.mp4"), {
        subtitles: [{ lang: "en", name: "English", path: missing }],
        onProgress: (p) => progress.push(p),
      });
      expect(error).toMatchObject({ code: "SUBTITLES_UNREADABLE", message: `subtitle file ${missing} is unreadable` });
      expect(progress).toEqual([]);
    });

    it("a subtitle file that is not subtitles", async () => {
      const notes = clip("notes.srt");
      await writeFile(notes, "Shopping list\n\nmilk\neggs\n");
      const error = await refusal(clip("simple.mp4"), { subtitles: [{ lang: "en", name: "English", path: notes }] });
      expect(error).toMatchObject({ code: "SUBTITLES_INVALID", message: `subtitle file ${notes} is not SRT or WebVTT` });
    });

    it("an output folder it does not own", async () => {
      const error = await refusal(clip("simple.mp4"), { outDir: dir });
      expect(error.code).toBe("INVALID_OPTIONS");
      expect(existsSync(clip("simple.mp4"))).toBe(true);
    });
  });
});
