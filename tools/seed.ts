// `npm run seed`: applies local D1 migrations (DB and every watch shard WATCH_{k}), then
// loads the demo media into local R2 (the primary bucket and each replica's) and the demo catalog into local D1 — idempotently,
// so running it again changes nothing.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { getPlatformProxy, unstable_readConfig } from "wrangler";
import { renditionIndexSchema, type RenditionIndex } from "../lib/media-index.ts";
import { catalogAssetIds, demoCatalogSchema, seedCatalog } from "./seed/demo-catalog.ts";
import { localReplicas, seedReplicated } from "./seed/demo-media.ts";
import { migrateLocal, type MigratedDatabase } from "./migrate-local.ts";
import { apiConfig, projectRoot } from "./project.ts";

const demoMediaRoot = path.join(projectRoot, "demo/media/assets");

type LocalBindings = { DB: D1Database; MEDIA: R2Bucket } & Record<string, unknown>;

/**
 * A config with only the api's D1 and R2 bindings, copied from wrangler.toml: the full
 * config would make the platform proxy warn about Durable Objects it cannot host.
 */
async function storageOnlyConfig(): Promise<string> {
  const config = unstable_readConfig({ config: apiConfig });
  const file = path.join(projectRoot, ".wrangler/tmp/seed.wrangler.json");
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    JSON.stringify({
      name: "marquee-seed",
      compatibility_date: config.compatibility_date,
      d1_databases: config.d1_databases,
      r2_buckets: config.r2_buckets,
    }),
  );
  return file;
}

export type SeedResult = {
  /** What the migrations applied to each local database (DB, then WATCH_0 …). */
  migrated: MigratedDatabase[];
  filesUploaded: number;
  filesUnchanged: number;
  rowsInserted: number;
};

/** `persistTo` is wrangler's `--persist-to` (default `.wrangler/state`). */
export async function seedLocal(persistTo?: string, options: { quiet?: boolean } = {}): Promise<SeedResult> {
  const say = options.quiet ? () => {} : console.log;
  const migrated = await migrateLocal(persistTo, options);

  const catalog = demoCatalogSchema.parse(JSON.parse(await readFile(path.join(projectRoot, "demo/catalog.json"), "utf8")));
  const assetIds = catalogAssetIds(catalog);

  const { env, dispose } = await getPlatformProxy<LocalBindings>({
    configPath: await storageOnlyConfig(),
    persist: { path: path.join(path.resolve(projectRoot, persistTo ?? ".wrangler/state"), "v3") },
    remoteBindings: false,
    envFiles: [],
  });
  try {
    const indexes: RenditionIndex[] = [];
    const result: SeedResult = { migrated, filesUploaded: 0, filesUnchanged: 0, rowsInserted: 0 };
    // The replica buckets MEDIA_REPLICAS names (docs/media-origin.md): the demo media in each.
    const replicas = localReplicas(unstable_readConfig({ config: apiConfig }).vars.MEDIA_REPLICAS as string | undefined, env);
    for (const assetId of assetIds) {
      const folder = path.join(demoMediaRoot, assetId);
      const indexBytes = new Uint8Array(await readFile(path.join(folder, "index.json")));
      const index = renditionIndexSchema.parse(JSON.parse(new TextDecoder().decode(indexBytes)));
      const read = async (file: string) => new Uint8Array(await readFile(path.join(folder, file)));
      const files = await seedReplicated(env.MEDIA, replicas, { index, indexBytes, read });
      say(`media ${assetId}${replicas.length > 0 ? ` (and ${replicas.map((r) => r.pathway).join(", ")})` : ""}: ${files.uploaded} uploaded, ${files.unchanged} already there`);
      result.filesUploaded += files.uploaded;
      result.filesUnchanged += files.unchanged;
      indexes.push(index);
    }
    result.rowsInserted = await seedCatalog(env.DB, catalog, indexes, new Date());
    say(`catalog: ${result.rowsInserted} rows inserted (${catalog.titles.length} titles in demo/catalog.json)`);
    return result;
  } finally {
    await dispose();
  }
}

if (import.meta.main) {
  const at = process.argv.indexOf("--persist-to");
  await seedLocal(at >= 0 ? process.argv[at + 1] : undefined);
}
