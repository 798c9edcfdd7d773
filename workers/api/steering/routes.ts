// /v1/admin/steering: the operator's say in which pathway viewers are sent to (docs/media-
// origin.md). The policy is kept in every origin (lib/media-origins/steering-policy.ts);
// the media Worker's steering server reads the newest copy within POLICY_REFRESH_MS and applies
// it before health. To go back to the configured order, PUT an empty policy `{}`.
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../../../lib/errors.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { mediaOrigins, putEverywhere } from "../../../lib/media-origins/origins.ts";
import { pathwaysNamed, readNewestPolicy, steeringPolicySchema, type StoredSteeringPolicy } from "../../../lib/media-origins/steering-policy.ts";
import { requireAdmin } from "../admin/require-admin.ts";
import { jsonBody, KB } from "../body-limits.ts";
import { createRouter, errorDocs, json } from "../router.ts";

const security = [{ adminToken: [] }];
const tags = ["admin"];
const errors = errorDocs({ 400: "Invalid policy, or one naming a pathway this deployment does not have", 401: "No or wrong admin token", 503: "No origin could be read or written; send it again" });

const policyDoc = steeringPolicySchema.openapi("SteeringPolicy", {
  example: { priority: ["p2", "p"], countries: { DE: ["p", "p2"] }, note: "draining the primary for maintenance" },
});

const steeringStateSchema = z
  .object({
    pathways: z.array(z.string()).openapi({ description: "Every pathway this deployment serves, the primary first" }),
    policy: policyDoc,
    updatedAt: z.string().nullable(),
    notWrittenTo: z.array(z.string()).optional().openapi({ description: "Replicas the policy could not be written to now (the primary's copy is read first)" }),
  })
  .openapi("SteeringState");

export const steeringRoutes = createRouter();
steeringRoutes.use("/v1/admin/steering", requireAdmin);

function state(pathways: string[], stored: StoredSteeringPolicy | null, notWrittenTo?: string[]) {
  return { pathways, policy: stored?.policy ?? {}, updatedAt: stored?.updatedAt ?? null, ...(notWrittenTo ? { notWrittenTo } : {}) };
}

steeringRoutes.openapi(
  createRoute({ method: "get", path: "/v1/admin/steering", tags, security, summary: "The steering policy and the pathways it can name", responses: { 200: json(steeringStateSchema, "The policy in force"), ...errors } }),
  async (c) => {
    const origins = mediaOrigins(c.env).all;
    const stored = await readNewestPolicy(origins);
    if (stored === undefined) throw new ApiError("UNAVAILABLE", "No media origin could be read; try again.");
    return c.json(state(origins.map((o) => o.pathway), stored), 200);
  },
);

steeringRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/admin/steering",
    tags,
    security,
    summary: "Set the steering policy: a default pathway order and orders by country (before health)",
    request: { body: jsonBody(policyDoc, 16 * KB) },
    responses: { 200: json(steeringStateSchema, "Stored in every origin that answered"), ...errors },
  }),
  async (c) => {
    const policy = c.req.valid("json");
    const origins = mediaOrigins(c.env).all;
    const pathways = origins.map((o) => o.pathway);
    const unknown = pathwaysNamed(policy).filter((id) => !pathways.includes(id));
    if (unknown.length > 0) {
      throw new ApiError("VALIDATION_FAILED", `No such pathway: ${unknown.join(", ")} (this deployment has ${pathways.join(", ")}).`, {
        details: unknown.map((id) => ({ path: "pathways", message: `${id} is not configured (MEDIA_REPLICAS)` })),
      });
    }
    const stored: StoredSteeringPolicy = { version: 1, updatedAt: new Date().toISOString(), policy };
    const { failed } = await putEverywhere(origins, mediaKeys.steeringPolicy, JSON.stringify(stored));
    return c.json(state(pathways, stored, failed), 200);
  },
);
