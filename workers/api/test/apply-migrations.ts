// Applies d1/migrations to the test D1 database before each test file (storage is
// isolated per file, so each file starts from the migrated, empty schema).
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
