// Tests of the Node-side tools (seeding, demo media packaging), run in Node; and of the
// browser code that needs no browser (web/test).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."),
  test: { name: "tools", include: ["tools/test/**/*.test.ts", "web/test/**/*.test.ts"], testTimeout: 60_000 },
});
