// drizzle-kit for the watch shards: generates flat, numbered SQL migrations into
// d1/watch-migrations from d1/watch-schema.ts, applied to every WATCH_{k} database.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./d1/watch-schema.ts",
  out: "./d1/watch-migrations",
});
