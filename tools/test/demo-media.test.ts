// The committed demo asset is what its index says it is, and its packager is deterministic.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renditionIndexSchema } from "../../lib/media-index.ts";
import { projectRoot } from "../project.ts";

const committed = path.join(projectRoot, "demo/media/assets/demo-aurora");
const hasFfmpeg = spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status === 0;
const isCI = process.env.CI === "true" || process.env.CI === "1";

async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listTree(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function hashes(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const file of await listTree(dir)) {
    result[file] = createHash("sha256").update(await readFile(path.join(dir, file))).digest("hex");
  }
  return result;
}

describe("the committed demo asset", () => {
  it("has a valid index.json that lists exactly the files on disk, with their sizes and hashes", async () => {
    const index = renditionIndexSchema.parse(JSON.parse(await readFile(path.join(committed, "index.json"), "utf8")));
    const onDisk = await hashes(committed);
    expect(Object.keys(onDisk).filter((f) => f !== "index.json")).toEqual(index.files.map((f) => f.path).sort());
    for (const file of index.files) {
      expect(onDisk[file.path], file.path).toBe(file.sha256);
      expect((await stat(path.join(committed, file.path))).size, file.path).toBe(file.bytes);
    }
  });

  it("has three keyframe-aligned renditions and audio that ends with the video", async () => {
    const index = renditionIndexSchema.parse(JSON.parse(await readFile(path.join(committed, "index.json"), "utf8")));
    expect(index.video.map((v) => v.height)).toEqual([240, 480, 720]);
    const seconds = (s: { timescale: number; durations: number[] }) => s.durations.map((d) => d / s.timescale);
    const [first, ...others] = index.video.map((v) => seconds(v.segments));
    for (const other of others) expect(other).toEqual(first);
    const audio = seconds(index.audio[0]!.segments);
    expect(audio).toHaveLength(first!.length);
    // A tiny trailing audio segment stalls hls.js before `ended`.
    expect(audio.at(-1)!).toBeGreaterThan(1);
    const totalBytes = index.files.reduce((sum, f) => sum + f.bytes, 0);
    expect(totalBytes).toBeLessThan(2_000_000);
  });
});

describe("tools/demo-media/package-demo.ts", () => {
  it.runIf(hasFfmpeg || isCI)(
    "writes byte-identical output on every run",
    async () => {
      expect(hasFfmpeg, "ffmpeg is required under CI: sudo apt-get install -y ffmpeg").toBe(true);
      const runs: Record<string, string>[] = [];
      for (let i = 0; i < 2; i++) {
        const out = await mkdtemp(path.join(tmpdir(), "marquee-demo-test-"));
        try {
          const script = path.join(projectRoot, "tools/demo-media/package-demo.ts");
          const res = spawnSync(process.execPath, [script, "--out", out], { encoding: "utf8" });
          expect(res.status, res.stderr).toBe(0);
          runs.push(await hashes(path.join(out, "demo-aurora")));
        } finally {
          await rm(out, { recursive: true, force: true });
        }
      }
      expect(Object.keys(runs[0]!).length).toBe(33);
      expect(runs[1]).toEqual(runs[0]);
    },
    120_000,
  );
});
