// The api Worker's HTTP application: shared middleware, every route, and the OpenAPI
// document generated from the routes' zod schemas.
import { installBase } from "../../lib/http.ts";
import { adminCatalogRoutes } from "./admin/catalog-routes.ts";
import { skipSegmentRoutes } from "./catalog/skip-segment-routes.ts";
import { defaultBodyLimit } from "./body-limits.ts";
import { adminRoutes } from "./admin/routes.ts";
import { steeringRoutes } from "./steering/routes.ts";
import { authRoutes } from "./auth/routes.ts";
import { billingRoutes } from "./billing/routes.ts";
import { catalogRoutes } from "./catalog/routes.ts";
import { d1Sessions } from "./d1-sessions/member-db.ts";
import { profileRoutes } from "./profiles/routes.ts";
import type { AppEnv } from "./env.ts";
import { eventRoutes } from "./events/routes.ts";
import { homeRoutes } from "./home/routes.ts";
import { liveRoutes } from "./live/routes.ts";
import { pageRoutes } from "./pages/routes.tsx";
import { watchRoutes } from "./pages/watch-routes.tsx";
import { playbackRoutes } from "./playback/routes.ts";
import { inviteRoutes } from "./parties/invite-routes.ts";
import { partyRoutes } from "./parties/routes.ts";
import { qoeDashboardRoutes } from "./qoe/dashboard.tsx";
import { qoeRoutes } from "./qoe/routes.ts";
import { createRouter } from "./router.ts";
import { PhaseTimer } from "../../lib/server-timing.ts";
import { searchRoutes } from "./catalog/search-routes.ts";
import { healthRoutes } from "./routes/health.ts";

export function createApp() {
  const app = installBase(createRouter());
  // The clock a route's Server-Timing phases start from (only Play sends them).
  app.use(async (c, next) => {
    c.set("timing", new PhaseTimer());
    await next();
  });
  // Before every route: the request's D1 session (memberDb) sends its bookmark back.
  app.use(d1Sessions());
  app.use(defaultBodyLimit());
  app.route("/", healthRoutes);
  app.route("/", adminRoutes);
  app.route("/", adminCatalogRoutes);
  app.route("/", skipSegmentRoutes);
  app.route("/", liveRoutes);
  app.route("/", authRoutes);
  app.route("/", profileRoutes);
  app.route("/", billingRoutes);
  app.route("/", searchRoutes);
  app.route("/", catalogRoutes);
  app.route("/", playbackRoutes);
  app.route("/", partyRoutes);
  app.route("/", eventRoutes);
  app.route("/", qoeRoutes);
  app.route("/", steeringRoutes);
  app.route("/", homeRoutes);
  app.route("/", qoeDashboardRoutes);
  app.route("/", watchRoutes);
  app.route("/", inviteRoutes);
  app.route("/", pageRoutes);
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "ingestToken", {
    type: "http",
    scheme: "bearer",
    description: "A live event's ingest token, from POST /v1/admin/live; ffmpeg sends it with -headers.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "http",
    scheme: "bearer",
    description: "A device's session token; the web app sends the __Host-marquee_session cookie and X-CSRF-Token instead.",
  });
  app.doc31("/v1/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: { title: "Marquee API", version: c.env.BUILD_VERSION },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  return app;
}

export type App = ReturnType<typeof createApp>;
export type { AppEnv };
