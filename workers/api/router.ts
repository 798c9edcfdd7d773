// The factory for the api's routers: OpenAPI-documented routes whose zod validation
// failures become the standard VALIDATION_FAILED error.
import { OpenAPIHono, type z } from "@hono/zod-openapi";
import { errorBodySchema, errorResponse, validationDetails } from "../../lib/errors.ts";
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
