// Taking players' QoE reports in (POST /v1/qoe): the same checks as watch events — the
// caller's profiles, a stream the server started (signed id), sane clocks, the profile's
// rate — then stamped with account, country and device class and put on the `qoe` Queue.
// When the QOE Analytics Engine dataset is bound (production), each report is also a raw
// point there. No D1 beyond the session check.
import { ApiError } from "../../../lib/errors.ts";
import { deviceClassOf, type QoeReport, type QoeReportMessage } from "../../../lib/qoe.ts";
import type { Auth } from "../auth/auth-context.ts";
import { countryStamp, refuseClocks, refuseProfiles, refuseUnknownStreams, reserveRate } from "../events/intake.ts";
import { sendToQueue } from "../queue/send.ts";
import { writeReportPoint } from "./analytics.ts";

export type QoeIntakeEnv = { QOE_EVENTS: Queue; PLAYBACK_TOKEN_KEYS: string; EVENTS_RATE_LIMIT: RateLimit; QOE?: AnalyticsEngineDataset };

export type QoeRequestMeta = { country: string | undefined; userAgent: string | undefined; nowMs: number; requestId: string };

export async function acceptReports(env: QoeIntakeEnv, auth: Auth, reports: QoeReport[], meta: QoeRequestMeta): Promise<number> {
  refuseProfiles(auth, reports);
  refuseClocks(reports, meta.nowMs, "reports");
  await refuseUnknownStreams(env, auth, reports);
  await reserveRate(env, reports, "qoe");
  const country = countryStamp(meta.country);
  const device = deviceClassOf(meta.userAgent);
  const messages = reports.map((report): QoeReportMessage => ({ v: 1, kind: "report", accountId: auth.accountId, country, device, receivedAt: meta.nowMs, report }));
  try {
    await sendToQueue(env.QOE_EVENTS, "qoe", messages, meta.requestId);
  } catch {
    throw new ApiError("UNAVAILABLE", "QoE reports could not be queued; send the same reports again.", { headers: { "Retry-After": "1" }, details: { reason: "queue_unavailable", retryable: true } });
  }
  if (env.QOE) for (const m of messages) writeReportPoint(env.QOE, m);
  return messages.length;
}
