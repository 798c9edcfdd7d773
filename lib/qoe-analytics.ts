// The Workers Analytics Engine layout of raw QoE points (dataset `marquee_qoe`, binding
// QOE, production only): one point per player report (api) and per CMCD request (media).
// docs/qoe.md queries them by these positions; change a position and the SQL there with it.
import type { CmcdRecord, QoeReportMessage } from "./qoe.ts";

export function reportPoint(m: QoeReportMessage): AnalyticsEngineDataPoint {
  const r = m.report;
  return {
    indexes: [r.titleId],
    // blob1 kind, blob2 title, blob3 country, blob4 device, blob5 plan height, blob6 exit, blob7 stream
    blobs: ["report", r.titleId, m.country, m.device, String(r.planHeight), r.exit ?? "", r.playbackSessionId],
    doubles: [
      r.firstFrame ? 1 : 0, // double1 first frame in this report
      r.firstFrame?.playDelayMs ?? 0, // double2 play delay ms
      r.firstFrame?.pageToFirstFrameMs ?? 0, // double3 page load → first frame ms
      r.playingMs, // double4
      r.stalls, // double5
      r.stallMs, // double6
      r.switches, // double7
      r.kbpsMs, // double8
      r.droppedFrames, // double9
      r.fatalErrors, // double10
      r.recoveredErrors, // double11
    ],
  };
}

export function cmcdPoint(m: CmcdRecord): AnalyticsEngineDataPoint {
  const c = m.cmcd;
  return {
    indexes: [m.assetId],
    // blob1 kind, blob2 asset, blob3 country, blob4 object type, blob5 CMCD sid, blob6 stream, blob7 object path
    blobs: ["cmcd", m.assetId, m.country, c.ot ?? "", c.sid ?? "", m.streamId, m.object],
    // double1 br kbit/s, double2 bl ms, double3 mtp kbit/s, double4 d ms, double5 su, double6 bs, double7 plan height
    doubles: [c.br ?? 0, c.bl ?? 0, c.mtp ?? 0, c.d ?? 0, c.su ? 1 : 0, c.bs ? 1 : 0, m.maxHeight],
  };
}
