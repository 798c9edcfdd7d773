// The factory for the api's routers: OpenAPI-documented routes whose zod validation
// failures become the standard VALIDATION_FAILED error.
import { OpenAPIHono } from "@hono/zod-openapi";
import { errorResponse, validationDetails } from "../../lib/errors.ts";
import type { AppEnv } from "./env.ts";

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return errorResponse(c, "VALIDATION_FAILED", `The request ${result.target} is not valid.`, {
          details: validationDetails(result.error),
        });
      }
    },
  });
}

/** Error responses every route can give, for the OpenAPI document. */
export { errorBodySchema } from "../../lib/errors.ts";
