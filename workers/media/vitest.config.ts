// Tests of the media Worker, run inside workerd with its real bindings.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { testBindings } from "../../test-support/config/test-bindings.ts";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: testBindings.media },
    }),
  ],
  test: { name: "media", include: ["test/**/*.test.ts"], setupFiles: ["../../test-support/fast-check-seed.ts"] },
});
