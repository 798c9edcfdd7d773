// QoE from tests: a report as the web player makes it, for a real stream of a member.
import type { QoeReport } from "../../../lib/qoe.ts";

let counter = 0;

/** A first report of a view: first frame after 640 ms, 10 s played at 720p at 1,200 kbit/s. */
export function qoeReport(o: Partial<QoeReport> & Pick<QoeReport, "playbackSessionId" | "profileId">): QoeReport {
  return {
    id: `qoe-${Date.now().toString(36)}-${++counter}`,
    titleId: "first-light",
    seq: 0,
    clientTime: Date.now(),
    planHeight: 2160,
    firstFrame: { playDelayMs: 640, pageToFirstFrameMs: 900 },
    playingMs: 10_000,
    stalls: 0,
    stallMs: 0,
    switches: 1,
    heightMs: { "720": 10_000 },
    kbpsMs: 1200 * 10_000,
    droppedFrames: 0,
    fatalErrors: 0,
    recoveredErrors: 0,
    ...o,
  };
}
