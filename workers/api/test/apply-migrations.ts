// Applies d1/migrations to the test D1 database DB, and d1/watch-migrations to every watch
// shard WATCH_0, WATCH_1, … the config binds, before each test file (storage is isolated
// per file, so each file starts from the migrated, empty schemas).
import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

const bindings = env as unknown as Record<string, unknown>;
const watchMigrations = bindings.TEST_WATCH_MIGRATIONS as D1Migration[] | undefined;
if (!watchMigrations) throw new Error("TEST_WATCH_MIGRATIONS is missing: workers/api/vitest.config.ts passes d1/watch-migrations");
for (let k = 0; bindings[`WATCH_${k}`] !== undefined; k++) {
  await applyD1Migrations(bindings[`WATCH_${k}`] as D1Database, watchMigrations);
}
