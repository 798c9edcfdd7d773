// /v1/profiles: the account's profiles, and entering one on this device (with its PIN).
// Reads and writes go through the request's D1 session (memberDb): a change answers with
// a bookmark, and a read sent with it sees the change.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { errorBodySchema } from "../../../lib/errors.ts";
import { isAccountPassword } from "../auth/accounts.ts";
import { refuseLockedProfile } from "../auth/auth-context.ts";
import { refuseKidsProfile, requireAuth } from "../auth/require-auth.ts";
import { memberDb } from "../d1-sessions/member-db.ts";
import type { AppEnv } from "../env.ts";
import { createRouter, errorDocs, json } from "../router.ts";
import { jsonBody, KB } from "../body-limits.ts";
import { forgetProfileViewing } from "../events/viewing.ts";
import { createProfile, deleteProfile, enterProfileWithPin, listProfiles, newProfileSchema, type PinEnv, profileChangesSchema, updateProfile } from "./profiles.ts";

const tags = ["profiles"];
const security = [{ session: [] }];
const errors = errorDocs({ 400: "Invalid request", 401: "Not signed in", 403: "Not allowed from a kids profile, or a wrong PIN", 404: "No such profile on this account" });

const profileSchema = z
  .object({ id: z.string(), name: z.string(), avatar: z.string(), language: z.string(), isKids: z.boolean(), maturityLevel: z.number(), hasPin: z.boolean(), autoSkipIntros: z.boolean() })
  .openapi("Profile");
const idParam = z.object({ id: z.string().min(1).max(40) });

/** The profile services' D1 (the request's session) and the PIN throttle. */
const pinEnv = (c: Context<AppEnv>): PinEnv => ({ DB: memberDb(c), SIGN_IN_THROTTLE: c.env.SIGN_IN_THROTTLE });

export const profileRoutes = createRouter();
// Hono's `/*` also matches the bare path: one registration guards both, and runs once.
profileRoutes.use("/v1/profiles/*", requireAuth);

profileRoutes.openapi(
  createRoute({ method: "get", path: "/v1/profiles", tags, security, summary: "The account's profiles", responses: { 200: json(z.object({ profiles: z.array(profileSchema) }), "Profiles"), ...errors } }),
  async (c) => c.json({ profiles: await listProfiles(memberDb(c), c.get("auth").accountId) }, 200),
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
  async (c) => c.json(await createProfile(memberDb(c), c.get("auth").accountId, c.req.valid("json"), new Date()), 201),
);

profileRoutes.patch("/v1/profiles/:id", refuseKidsProfile);
profileRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/v1/profiles/{id}",
    tags,
    security,
    summary: "Change a profile (pin: null removes the PIN; changing or removing one needs currentPin or password)",
    description:
      "A profile with a PIN is changed only from a device that entered it, or with the account password. Changing or removing the PIN needs the current PIN (currentPin) or the account password (password), both throttled. Setting or changing a PIN signs every other device out of the profile.",
    request: { params: idParam, body: jsonBody(profileChangesSchema, 4 * KB) },
    responses: { 200: json(profileSchema, "Changed"), 429: json(errorBodySchema, "Too many wrong PINs or passwords (see Retry-After)"), ...errors },
  }),
  async (c) => {
    const auth = c.get("auth");
    const caller = {
      sessionId: auth.sessionId,
      enteredProfileId: auth.profileId,
      checkPassword: (password: string) => isAccountPassword(c.env, auth.accountId, password, c.req.header("cf-connecting-ip"), new Date()),
    };
    return c.json(await updateProfile(pinEnv(c), auth.accountId, c.req.valid("param").id, c.req.valid("json"), caller), 200);
  },
);

profileRoutes.delete("/v1/profiles/:id", refuseKidsProfile);
profileRoutes.openapi(
  createRoute({ method: "delete", path: "/v1/profiles/{id}", tags, security, summary: "Delete a profile", request: { params: idParam }, responses: { 204: { description: "Deleted" }, ...errors } }),
  async (c) => {
    refuseLockedProfile(c.get("auth"), c.req.valid("param").id);
    await deleteProfile(memberDb(c), c.get("auth").accountId, c.req.valid("param").id);
    await forgetProfileViewing(c.env, c.get("auth").accountId, c.req.valid("param").id, c.get("requestId"));
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
    return c.json(await enterProfileWithPin(pinEnv(c), accountId, sessionId, c.req.valid("param").id, c.req.valid("json")?.pin), 200);
  },
);
