// Raw report points for Workers Analytics Engine, when the QOE dataset is bound. A failed
// write never fails the request: the D1 rollups are the record, these points are extra.
import { log } from "../../../lib/log.ts";
import { reportPoint } from "../../../lib/qoe-analytics.ts";
import type { QoeReportMessage } from "../../../lib/qoe.ts";

export function writeReportPoint(dataset: AnalyticsEngineDataset, m: QoeReportMessage): void {
  try {
    dataset.writeDataPoint(reportPoint(m));
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId: "", dependency: "analytics_engine", message: String(err) });
  }
}
