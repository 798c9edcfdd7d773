// `GET /healthz`: liveness with the build's version, documented in the OpenAPI document.
import { createRoute } from "@hono/zod-openapi";
import { health, healthSchema } from "../../../lib/http.ts";
import { createRouter } from "../router.ts";

const route = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness and build version",
  responses: {
    200: { description: "The Worker is up", content: { "application/json": { schema: healthSchema } } },
  },
});

export const healthRoutes = createRouter().openapi(route, (c) => c.json(health("marquee-api", c.env), 200));
