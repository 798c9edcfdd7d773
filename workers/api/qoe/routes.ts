// /v1/qoe (players report quality of experience) and the operators' reads:
// /v1/admin/qoe (rollups by title, country, device or day) and
// /v1/admin/qoe/sessions/{sid} (one CMCD session's timeline). docs/qoe.md.
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../../../lib/errors.ts";
import { qoeBatchSchema } from "../../../lib/qoe.ts";
import { requireAdmin } from "../admin/require-admin.ts";
import { authenticate } from "../auth/require-auth.ts";
import { jsonBody, KB } from "../body-limits.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { viewerCountry } from "../../../lib/viewer-country.ts";
import { acceptReports } from "./intake.ts";
import { cmcdTimeline, qoeByGroup, qoeGroupings } from "./read-qoe.ts";

/** 20 reports of the largest allowed size (8 heights each) stay under this. */
const MAX_BODY_BYTES = 32 * KB;
/** The longest range one rollup read may cover. */
export const MAX_RANGE_MS = 31 * 86_400_000;

export const qoeRoutes = createRouter();

qoeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/qoe",
    tags: ["qoe"],
    security: [{ session: [] }],
    summary: "Report up to 20 QoE reports of the caller's streams; queued, not yet applied (202)",
    description:
      "Sent by the web player with navigator.sendBeacon on visibilitychange/pagehide, so a cookie-authenticated call may carry its CSRF token as `csrfToken` in the body instead of the X-CSRF-Token header.",
    request: { body: jsonBody(qoeBatchSchema, MAX_BODY_BYTES) },
    responses: {
      202: json(z.object({ accepted: z.number() }).openapi("QoeAccepted"), "Queued"),
      413: json(z.object({}).passthrough(), "Over 32 KB"),
      429: json(z.object({}).passthrough(), "More than 20 requests for a profile in 10 s: send it again after Retry-After"),
      503: json(z.object({}).passthrough(), "Not queued: send the same reports (same ids) again after Retry-After"),
      ...errorDocs({ 400: "Invalid request", 401: "Not signed in", 403: "No CSRF token, a profile that is not the caller's, or a stream the server did not start for it (details.reason)" }),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    await authenticate(c, body.csrfToken ?? c.req.header("x-csrf-token"));
    const accepted = await acceptReports(c.env, c.get("auth"), body.reports, {
      country: viewerCountry(c.req.raw),
      userAgent: c.req.header("user-agent"),
      nowMs: Date.now(),
      requestId: c.get("requestId"),
    });
    return c.json({ accepted }, 202);
  },
);

const adminSecurity = [{ adminToken: [] }];
const adminErrors = errorDocs({ 400: "Invalid request", 401: "No or wrong admin token", 404: "No CMCD requests for this session in the last 48 hours" });

const nullableNumber = z.number().nullable();
const summarySchema = {
  starts: z.number(),
  exitsBeforeVideo: z.number().openapi({ description: "Views that ended before their first frame (gave up, or a fatal error)" }),
  startFailures: z.number().openapi({ description: "Of those, the ones a fatal error ended" }),
  playDelayMs: z.object({ p50: nullableNumber, p95: nullableNumber }).openapi({ description: "Play → first frame, read from the histogram (interpolated inside its bucket)" }),
  rebufferRatio: nullableNumber.openapi({ description: "Stalled time ÷ (playing + stalled time)" }),
  stallsPerHour: nullableNumber,
  avgBitrateKbps: nullableNumber.openapi({ description: "Time-weighted mean bitrate of what played" }),
  errorRate: nullableNumber.openapi({ description: "Fatal errors ÷ attempts" }),
  playingMsByHeight: z.array(z.number()).openapi({ description: "Playing time per resolution class: ≤360p, 480p, 720p, 1080p, above" }),
  playingMs: z.number(),
};

const iso = z.iso.datetime({ offset: true });
export const qoeRangeSchema = z
  .object({
    from: iso.optional().openapi({ description: "Start of the range (ISO 8601); default: `to` minus 24 hours" }),
    to: iso.optional().openapi({ description: "End of the range, exclusive; default: now" }),
    groupBy: z.enum(qoeGroupings).default("title"),
  })
  .strict();

/** A validated range: at most 31 days, from before to. */
export function rangeOf(query: { from?: string | undefined; to?: string | undefined }, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = query.to ? Date.parse(query.to) : nowMs;
  const fromMs = query.from ? Date.parse(query.from) : toMs - 86_400_000;
  if (!(fromMs < toMs)) throw new ApiError("VALIDATION_FAILED", "`from` must be before `to`.", { details: [{ path: "from", message: "not before to" }] });
  if (toMs - fromMs > MAX_RANGE_MS) throw new ApiError("VALIDATION_FAILED", "A range covers at most 31 days.", { details: [{ path: "from", message: "more than 31 days before to" }] });
  return { fromMs, toMs };
}

qoeRoutes.use("/v1/admin/qoe", requireAdmin);
qoeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/qoe",
    tags: ["admin", "qoe"],
    security: adminSecurity,
    summary: "QoE rollups over a range, grouped by title, country, device class or day (most starts first, at most 200 groups)",
    request: { query: qoeRangeSchema },
    responses: {
      200: json(
        z
          .object({
            from: z.string(),
            to: z.string(),
            groupBy: z.enum(qoeGroupings),
            rows: z.array(z.object({ key: z.string(), label: z.string(), ...summarySchema })),
          })
          .openapi("QoeRollup"),
        "Rollups",
      ),
      ...adminErrors,
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { fromMs, toMs } = rangeOf(query, Date.now());
    const rows = await qoeByGroup(c.env.DB, fromMs, toMs, query.groupBy);
    return c.json({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), groupBy: query.groupBy, rows }, 200);
  },
);

qoeRoutes.use("/v1/admin/qoe/sessions/:sid", requireAdmin);
qoeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/admin/qoe/sessions/{sid}",
    tags: ["admin", "qoe"],
    security: adminSecurity,
    summary: "One CMCD session's requests over the last 48 hours, oldest first (by the player's sid, or by the stream id of its playback token)",
    request: { params: z.object({ sid: z.string().min(1).max(64) }) },
    responses: {
      200: json(
        z
          .object({
            sid: z.string(),
            streamIds: z.array(z.string()),
            assetIds: z.array(z.string()),
            truncated: z.boolean(),
            requests: z.array(
              z.object({
                at: z.string(),
                object: z.string(),
                ot: z.string().nullable().openapi({ description: "CMCD object type" }),
                br: nullableNumber.openapi({ description: "Encoded bitrate, kbit/s" }),
                bl: nullableNumber.openapi({ description: "Buffer length, ms" }),
                mtp: nullableNumber.openapi({ description: "Measured throughput, kbit/s" }),
                d: nullableNumber.openapi({ description: "Object duration, ms" }),
                su: z.boolean().openapi({ description: "Startup" }),
                bs: z.boolean().openapi({ description: "Buffer starvation" }),
              }),
            ),
          })
          .openapi("CmcdTimeline"),
        "The timeline",
      ),
      ...adminErrors,
    },
  }),
  async (c) => {
    const timeline = await cmcdTimeline(c.env.DB, c.req.valid("param").sid, Date.now());
    if (!timeline) throw new ApiError("NOT_FOUND", "No CMCD requests for this session in the last 48 hours.");
    return c.json(timeline, 200);
  },
);
