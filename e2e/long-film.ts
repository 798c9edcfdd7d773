// A film long enough to seek around in, made for browser tests and benches that need more
// than the demo video's 12 s: ffmpeg draws a test pattern with a tone, and `npm run ingest`
// packages and publishes it as a new title on the running platform (small and quick: 320×180,
// one rung, no skip-segment detection).
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runIngest } from "./ingest-cli.ts";

export { hasFfmpeg } from "./ingest-cli.ts";

export type IngestedFilm = { titleId: string; assetId: string; replication: { pathway: string; complete: boolean; filesDone: number; filesTotal: number }[] };

export async function ingestLongFilm(baseUrl: string, name: string, seconds: number): Promise<IngestedFilm> {
  const work = await mkdtemp(path.join(tmpdir(), "marquee-long-film-"));
  try {
    const clip = path.join(work, "film.mp4");
    const made = spawnSync(
      "ffmpeg",
      ["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=320x180:rate=25:duration=${seconds}`, "-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip],
      { encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`ffmpeg: ${made.stderr || made.error?.message || "failed"} (the browser tests need ffmpeg: sudo apt-get install -y ffmpeg)`);
    const { out } = await runIngest<{ ok: boolean; titleId?: string; assetId?: string; replication?: IngestedFilm["replication"]; error?: unknown }>(baseUrl, [clip, "--new-title", name, "--skip-segments"]);
    if (!out.ok || !out.titleId || !out.assetId) throw new Error(`ingest of ${name} failed: ${JSON.stringify(out)}`);
    return { titleId: out.titleId, assetId: out.assetId, replication: out.replication ?? [] };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
