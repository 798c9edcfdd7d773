// The factory for the api's routers: OpenAPI-documented routes whose zod validation
// failures become the standard VALIDATION_FAILED error, and whose request bodies carry
// their size limits.
import { OpenAPIHono, type RouteConfig, type z } from "@hono/zod-openapi";
import { errorBodySchema, errorResponse, validationDetails } from "../../lib/errors.ts";
import { declaredLimit, limitFor } from "./body-limits.ts";
import type { AppEnv } from "./env.ts";

export function createRouter(): OpenAPIHono<AppEnv> {
  const router = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return errorResponse(c, "VALIDATION_FAILED", `The request ${result.target} is not valid.`, {
          details: validationDetails(result.error),
        });
      }
    },
  });
  // Every route that declares a request body declares its size limit with it
  // (body-limits.ts), checked before the body's validator reads a byte. A body without a
  // limit is a mistake caught when the Worker starts, not a route that reads 30 MB.
  const openapi = router.openapi.bind(router);
  router.openapi = ((route: RouteConfig, ...rest: unknown[]) => {
    const body = route.request?.body;
    if (body) {
      const limit = declaredLimit(body);
      if (!limit) throw new Error(`${route.method.toUpperCase()} ${route.path}: declare its body with jsonBody() or streamedBody(), which carry a size limit`);
      const own = route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
      route = { ...route, middleware: [limitFor(limit), ...own] };
    }
    return (openapi as (...args: unknown[]) => unknown)(route, ...rest);
  }) as typeof router.openapi;
  return router;
}

/** A JSON response (or request body) for the OpenAPI document. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** Error responses in the standard body, one description per status. */
export function errorDocs<S extends number>(descriptions: Record<S, string>) {
  const docs = {} as Record<S, ReturnType<typeof json<typeof errorBodySchema>>>;
  for (const [status, description] of Object.entries(descriptions) as [`${S}`, string][]) {
    docs[Number(status) as S] = json(errorBodySchema, description);
  }
  return docs;
}
