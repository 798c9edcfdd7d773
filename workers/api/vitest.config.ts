// Tests of the api Worker, run inside workerd with its real bindings (DB and the watch
// shards migrated by test/apply-migrations.ts) and the media Worker as an auxiliary
// Worker behind the MEDIA_WORKER service binding.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import path from "node:path";
import { defineConfig } from "vitest/config";
import { bundleMediaWorker } from "../../test-support/config/bundle-worker.ts";
import { projectRoot, testBindings } from "../../test-support/config/test-bindings.ts";

export default defineConfig({
  plugins: [
    cloudflareTest(async () => {
      const mediaScript = await bundleMediaWorker();
      return {
      wrangler: { configPath: "../../wrangler.toml" },
      miniflare: {
        bindings: {
          ...testBindings.api,
          TEST_MIGRATIONS: await readD1Migrations(path.join(projectRoot, "d1/migrations")),
          // Applied to every watch shard WATCH_{k} the config binds (EVENT_SHARDS of them).
          TEST_WATCH_MIGRATIONS: await readD1Migrations(path.join(projectRoot, "d1/watch-migrations")),
        },
        workers: [
          {
            name: "marquee-media",
            modules: true,
            scriptPath: mediaScript,
            modulesRoot: path.dirname(mediaScript),
            compatibilityDate: "2026-11-01",
            // The same buckets as the api's (by name): the primary and the replica.
            r2Buckets: { MEDIA: "marquee-media", MEDIA_REPLICA: "marquee-media-replica" },
            // Its CMCD records reach the api's qoe consumer, as in `npm run dev`.
            queueProducers: { QOE_EVENTS: "qoe" },
            // Not read from workers/media/wrangler.toml here: its replicas as there.
            bindings: { ...testBindings.media, MEDIA_REPLICAS: "p2=r2:MEDIA_REPLICA", STEERING_TTL_SECONDS: "10" },
          },
        ],
      },
    };
    }),
  ],
  test: { name: "api", include: ["test/**/*.test.ts"], setupFiles: ["./test/apply-migrations.ts", "../../test-support/fast-check-seed.ts"] },
});
