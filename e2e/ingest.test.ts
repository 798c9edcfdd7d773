// `npm run ingest` against the running platform: a clip made by ffmpeg here is packaged,
// uploaded, published and played to the end; bad inputs get one clear line and leave
// nothing behind.
import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readDevVar } from "../tools/dev-vars.ts";
import { launchBrowser } from "./browser.ts";
import { hasFfmpeg, runIngest } from "./ingest-cli.ts";
import { devPlaybackToken, expectPlayedToTheEnd, play } from "./players.ts";
import { makeSyntheticSeason } from "../tools/ingest/segments/synthetic-season.ts";

const baseUrl = inject("baseUrl");
const isCI = process.env.CI === "true" || process.env.CI === "1";

let work: string;
let browser: Browser;

function ffmpeg(args: string[]) {
  const res = spawnSync("ffmpeg", ["-v", "error", "-y", ...args], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`ffmpeg ${args.join(" ")}: ${res.stderr}`);
}

type Found = { kind: string; startSec: number; endSec: number; source: string; confidence: number; visible: boolean };
type SegmentsOut = { stored: { season: number; episode: number; assetId: string; segments: Found[] }[]; unanalysed: unknown[] } | { error: string };
type IngestResult = {
  exitCode: number;
  out: { ok: boolean; assetId?: string; titleId?: string; ladder?: { id: string }[]; segments?: SegmentsOut | null; replication?: { pathway: string; complete: boolean }[]; error?: { code: string; message: string } };
};

const ingest = (args: string[]) => runIngest<IngestResult["out"]>(baseUrl, args);

async function admin(pathname: string): Promise<Response> {
  return fetch(`${baseUrl}${pathname}`, { headers: { Authorization: `Bearer ${await readDevVar("ADMIN_TOKEN")}` } });
}

const media = async (assetId: string, file: string) => fetch(`${baseUrl}/p/${await devPlaybackToken(assetId)}/${assetId}/${file}`);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "marquee-ingest-e2e-"));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await rm(work, { recursive: true, force: true });
});

describe.runIf(hasFfmpeg || isCI)("npm run ingest", () => {
  it("packages, uploads and publishes a clip that then plays to the end", async () => {
    expect(hasFfmpeg, "ffmpeg is required under CI").toBe(true);
    const clip = path.join(work, "Evening Walk.mp4");
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=6", "-f", "lavfi", "-i", "sine=frequency=330:duration=6", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip]);
    const subs = path.join(work, "walk.en.srt");
    await writeFile(subs, "1\r\n00:00:01,000 --> 00:00:03,000\r\nGood evening.\r\n");

    const { exitCode, out } = await ingest([clip, "--new-title", "Evening Walk", "--subs", `en=${subs}`]);
    expect(exitCode, JSON.stringify(out)).toBe(0);
    expect(out.ladder?.map((r) => r.id)).toEqual(["240p", "360p"]); // never above the source
    expect(out.titleId).toMatch(/^evening-walk-/);
    const assetId = out.assetId!;
    expect(assetId).toMatch(/^evening-walk-[0-9a-f]{12}$/);
    expect(await (await admin(`/v1/admin/assets/${assetId}`)).json()).toMatchObject({ status: "published", linkedTo: [{ titleId: out.titleId }] });

    // Every rendition is cut at the same instants, so players can switch at any segment.
    const master = await (await media(assetId, "master.m3u8")).text();
    // Two rungs on each pathway: the publish step copied the asset to the replica (p2).
    expect(master.match(/^#EXT-X-STREAM-INF.*PATHWAY-ID="p"$/gm)).toHaveLength(2);
    expect(master.match(/^#EXT-X-STREAM-INF.*PATHWAY-ID="p2"$/gm)).toHaveLength(2);
    expect(out.replication).toEqual([expect.objectContaining({ pathway: "p2", complete: true })]);
    expect(master).toContain('TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en"');
    const cuts = await Promise.all(["240p", "360p"].map(async (id) => (await (await media(assetId, `${id}/playlist.m3u8`)).text()).match(/#EXTINF:[\d.]+/g)));
    expect(cuts[0]).toEqual(cuts[1]);
    expect(cuts[0]!.length).toBeGreaterThanOrEqual(3);

    const page = await browser.newPage({ bypassCSP: true }); // hls.js and Shaka are injected as scripts the pages' CSP would refuse
    const report = await play(page, baseUrl, "hls", `${baseUrl}/p/${await devPlaybackToken(assetId)}/${assetId}/master.m3u8`);
    await page.close();
    expectPlayedToTheEnd(report, 6, 25);
  });

  it("finds a season's recaps, intros and credits as its episodes are ingested, and again from the stored analyses", async () => {
    // Three synthetic episodes sharing an intro jingle and title card at different offsets,
    // each after the first opening with a recap of the one before, ending in rolling credits.
    const season = await makeSyntheticSeason(path.join(work, "season"), { episodes: 3, seed: 11 });
    let titleId: string | undefined;
    let last: SegmentsOut | null | undefined;
    for (const [i, file] of season.files.entries()) {
      const target = titleId ? ["--title", titleId] : ["--new-title", "Synthetic Season", "--series"];
      const { exitCode, out } = await ingest([file, ...target, "--episode", `S01E0${i + 1}`, "--preset", "veryfast"]);
      expect(exitCode, JSON.stringify(out)).toBe(0);
      titleId ??= out.titleId;
      last = out.segments;
    }
    const within = (found: SegmentsOut | null | undefined, label: string) => {
      expect(found && "stored" in found, `${label}: ${JSON.stringify(found)}`).toBe(true);
      const stored = (found as Extract<SegmentsOut, { stored: unknown }>).stored;
      expect(stored.map((e) => e.episode)).toEqual([1, 2, 3]);
      for (const [i, truth] of season.truth.entries()) {
        const visible = stored[i]!.segments.filter((s) => s.visible);
        expect(visible.map((s) => s.kind).sort(), `${label} S01E0${i + 1}: ${JSON.stringify(stored[i]!.segments)}`).toEqual(truth.map((t) => t.kind).sort());
        for (const t of truth) {
          const s = visible.find((v) => v.kind === t.kind)!;
          expect(Math.abs(s.startSec - t.startSec), `${label} S01E0${i + 1} ${t.kind} start ${s.startSec} vs ${t.startSec}`).toBeLessThanOrEqual(1);
          expect(Math.abs(s.endSec - t.endSec), `${label} S01E0${i + 1} ${t.kind} end ${s.endSec} vs ${t.endSec}`).toBeLessThanOrEqual(1);
        }
      }
      return stored;
    };
    // The last episode's ingest detected over the whole season.
    const stored = within(last, "at ingest");
    // Again from what the server kept, without any source file: the same answer.
    const { exitCode, out } = await ingest(["--detect-segments", "1", "--title", titleId!]);
    expect(exitCode, JSON.stringify(out)).toBe(0);
    expect(within(out.segments, "--detect-segments"), "the same segments").toEqual(stored);

    // And the manifests carry them for any player: the second episode's intro as an EXT-X-DATERANGE.
    const ep2 = stored[1]!;
    const intro = ep2.segments.find((s) => s.kind === "intro")!;
    const master = await (await media(ep2.assetId, "master.m3u8")).text();
    const variant = master.split("\n").find((l) => l.endsWith("playlist.m3u8") && !l.startsWith("#"))!;
    const playlist = await (await media(ep2.assetId, variant)).text();
    expect(playlist).toContain(`#EXT-X-DATERANGE:ID="intro",CLASS="tv.marquee.skip",`);
    expect(playlist).toContain(`X-START-SEC=${intro.startSec.toFixed(3)}`);
  }, 300_000);

  it("refuses bad inputs with one clear message, uploading and publishing nothing", async () => {
    const notVideo = path.join(work, "notes.mp4");
    await writeFile(notVideo, "these are my notes, not a video\n");
    const audioOnly = path.join(work, "tone.m4a");
    ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", audioOnly]);
    const tooShort = path.join(work, "blink.mp4");
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=0.5", "-c:v", "libx264", "-pix_fmt", "yuv420p", tooShort]);
    const truncated = path.join(work, "cut.mp4");
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4", "-c:v", "libx264", "-pix_fmt", "yuv420p", truncated]);
    const { size } = await import("node:fs/promises").then((fs) => fs.stat(truncated));
    await truncate(truncated, Math.floor(size / 2));
    const good = path.join(work, "good.mp4");
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=3", "-c:v", "libx264", "-pix_fmt", "yuv420p", good]);
    const notSubs = path.join(work, "readme.srt");
    await writeFile(notSubs, "This file is a readme, not subtitles.\n");
    await copyFile(good, path.join(work, "copy.mp4"));

    const cases: [string[], string, RegExp][] = [
      [[notVideo], "NOT_A_VIDEO", /notes\.mp4 is not a video file/],
      [[audioOnly], "NO_VIDEO_STREAM", /tone\.m4a has no video/],
      [[tooShort], "TOO_SHORT", /blink\.mp4 is shorter than 1 second/],
      [[truncated], "CORRUPT", /cut\.mp4 is truncated or corrupt/],
      [[good, "--subs", `en=${path.join(work, "missing.srt")}`], "SUBTITLES_UNREADABLE", /missing\.srt cannot be read/],
      [[good, "--subs", `en=${notSubs}`], "SUBTITLES_INVALID", /readme\.srt is not SRT or WebVTT/],
      [[path.join(work, "nowhere.mp4")], "INPUT_NOT_FOUND", /nowhere\.mp4 does not exist/],
    ];
    for (const [args, code, message] of cases) {
      const { exitCode, out } = await ingest(args);
      expect(exitCode, args.join(" ")).toBe(1);
      expect(out.ok).toBe(false);
      expect(out.error?.code, args.join(" ")).toBe(code);
      expect(out.error?.message).toMatch(message);
      expect(out.error?.message).not.toContain("\n");
      if (out.assetId) {
        expect((await admin(`/v1/admin/assets/${out.assetId}`)).status, `${args.join(" ")}: no asset was started`).toBe(404);
        expect((await media(out.assetId, "master.m3u8")).status).toBe(404);
      }
    }
  });
});
