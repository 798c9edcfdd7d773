// One vitest run over both Workers (each in its own workerd) and the Node-side tools.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { projects: ["workers/api/vitest.config.ts", "workers/media/vitest.config.ts", "tools/vitest.config.ts"] },
});
