// drizzle-kit: generates flat, numbered SQL migrations into d1/migrations from d1/schema.ts.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./d1/schema.ts",
  out: "./d1/migrations",
});
