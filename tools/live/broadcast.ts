// A live event broadcast by ffmpeg from a script (the browser test, bench:live): created
// through the admin API, pushed with the same command `npm run live` runs, watched until
// it has segments, and ended once ffmpeg's last uploads have landed.
import { AdminApi } from "../ingest/admin-api.ts";
import { liveFfmpegArgs } from "./ffmpeg-command.ts";
import { createLive, endLive, liveStatus, uploadsLanded, type LiveEvent, type LiveStatus } from "./live-api.ts";
import { runFfmpeg, type FfmpegOutcome } from "./run-ffmpeg.ts";

export type Broadcast = {
  event: LiveEvent;
  /** ffmpeg's exit (after `durationSec` of test pattern). */
  finished: Promise<FfmpegOutcome>;
  status: () => Promise<LiveStatus>;
  /** Resolves once the event has published `n` segments (each on every rendition). */
  segments: (n: number, timeoutMs?: number) => Promise<LiveStatus>;
  /** Waits for ffmpeg and its last uploads, then ends the event. */
  end: () => Promise<LiveStatus>;
};

export async function broadcastTestPattern(apiBase: string, adminToken: string, options: { name: string; durationSec: number }): Promise<Broadcast> {
  const api = new AdminApi(apiBase, adminToken);
  const event = await createLive(api, { name: options.name });
  const finished = runFfmpeg(liveFfmpegArgs({ kind: "test-pattern" }, event.ladder, event.ingest, { durationSec: options.durationSec }), { quiet: true });
  const status = () => liveStatus(api, event.liveId);
  const segments = async (n: number, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await status();
      if (s.segments >= n) return s;
      if (Date.now() > until) throw new Error(`${event.liveId}: ${s.segments} of ${n} segments after ${timeoutMs} ms (${JSON.stringify(s.errors)})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const end = async () => {
    await finished;
    await uploadsLanded(api, event.liveId);
    return endLive(api, event.liveId);
  };
  return { event, finished, status, segments, end };
}
