// /v1/profiles: the account's profiles, and entering one on this device (with its PIN).
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, errorBodySchema } from "../../../lib/errors.ts";
import { enterProfile } from "../auth/sessions.ts";
import { refuseLockedProfile } from "../auth/auth-context.ts";
import { refuseKidsProfile, requireAuth } from "../auth/require-auth.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { jsonBody, KB } from "../body-limits.ts";
import {
  checkProfilePin,
  createProfile,
  deleteProfile,
  listProfiles,
  newProfileSchema,
  PIN_THROTTLE_LIMITS,
  profileChangesSchema,
  publicProfile,
  updateProfile,
} from "./profiles.ts";

const tags = ["profiles"];
const security = [{ session: [] }];
const errors = errorDocs({ 400: "Invalid request", 401: "Not signed in", 403: "Not allowed from a kids profile, or a wrong PIN", 404: "No such profile on this account" });

const profileSchema = z
  .object({ id: z.string(), name: z.string(), avatar: z.string(), language: z.string(), isKids: z.boolean(), maturityLevel: z.number(), hasPin: z.boolean() })
  .openapi("Profile");
const idParam = z.object({ id: z.string().min(1).max(40) });

export const profileRoutes = createRouter();
// Hono's `/*` also matches the bare path: one registration guards both, and runs once.
profileRoutes.use("/v1/profiles/*", requireAuth);

profileRoutes.openapi(
  createRoute({ method: "get", path: "/v1/profiles", tags, security, summary: "The account's profiles", responses: { 200: json(z.object({ profiles: z.array(profileSchema) }), "Profiles"), ...errors } }),
  async (c) => c.json({ profiles: await listProfiles(c.env.DB, c.get("auth").accountId) }, 200),
);

profileRoutes.post("/v1/profiles", refuseKidsProfile);
profileRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/profiles",
    tags,
    security,
    summary: "Add a profile (at most five)",
    request: { body: jsonBody(newProfileSchema, 4 * KB) },
    responses: { 201: json(profileSchema, "Created"), 409: json(errorBodySchema, "Already five profiles"), ...errors },
  }),
  async (c) => c.json(await createProfile(c.env.DB, c.get("auth").accountId, c.req.valid("json"), new Date()), 201),
);

profileRoutes.patch("/v1/profiles/:id", refuseKidsProfile);
profileRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/profiles/{id}",
    tags,
    security,
    summary: "Change a profile (pin: null removes the PIN)",
    request: { params: idParam, body: jsonBody(profileChangesSchema, 4 * KB) },
    responses: { 200: json(profileSchema, "Changed"), ...errors },
  }),
  async (c) => {
    // A locked profile (its PIN included) is changed only from a device that entered it.
    refuseLockedProfile(c.get("auth"), c.req.valid("param").id);
    return c.json(await updateProfile(c.env.DB, c.get("auth").accountId, c.req.valid("param").id, c.req.valid("json")), 200);
  },
);

profileRoutes.delete("/v1/profiles/:id", refuseKidsProfile);
profileRoutes.openapi(
  createRoute({ method: "delete", path: "/v1/profiles/{id}", tags, security, summary: "Delete a profile", request: { params: idParam }, responses: { 204: { description: "Deleted" }, ...errors } }),
  async (c) => {
    refuseLockedProfile(c.get("auth"), c.req.valid("param").id);
    await deleteProfile(c.env.DB, c.get("auth").accountId, c.req.valid("param").id);
    return c.body(null, 204);
  },
);

profileRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/profiles/{id}/enter",
    tags,
    security,
    summary: "Enter a profile on this device (its PIN if it has one)",
    request: { params: idParam, body: jsonBody(z.object({ pin: z.string().max(8).optional() }), 1 * KB, { required: false }) },
    responses: { 200: json(profileSchema, "Entered"), 429: json(errorBodySchema, "Too many wrong PINs (see Retry-After)"), ...errors },
  }),
  async (c) => {
    const { accountId, sessionId } = c.get("auth");
    const id = c.req.valid("param").id;
    const throttle = c.env.SIGN_IN_THROTTLE.get(c.env.SIGN_IN_THROTTLE.idFromName(`pin:${id}`));
    const now = Date.now();
    const allowed = await throttle.check(PIN_THROTTLE_LIMITS, now);
    if (!allowed.ok) {
      throw new ApiError("RATE_LIMITED", "Too many wrong PINs. Wait a little and try again.", { headers: { "Retry-After": String(allowed.retryAfterSec) } });
    }
    const { profile, ok } = await checkProfilePin(c.env.DB, accountId, id, c.req.valid("json")?.pin);
    if (!ok) {
      await throttle.recordFailure(PIN_THROTTLE_LIMITS, now);
      throw new ApiError("FORBIDDEN", "That PIN is not right.", { details: { reason: "wrong_pin" } });
    }
    await enterProfile(c.env.DB, sessionId, profile.id);
    return c.json(publicProfile(profile), 200);
  },
);
