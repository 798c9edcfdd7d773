// The catalog's version: every catalog write bumps it (in the write's own batch), and
// public catalog responses are cached under keys that contain it, so an edit is visible
// on the next request with no purge.
import { eq, sql } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { versions } from "./schema.ts";

const CATALOG = "catalog";

export async function catalogVersion(db: D1Database | D1DatabaseSession): Promise<number> {
  const [row] = await drizzle(db as D1Database).select({ version: versions.version }).from(versions).where(eq(versions.name, CATALOG));
  return row?.version ?? 0;
}

/** A statement to put in the same `batch()` as the catalog write it accounts for. */
export function bumpCatalogVersion(orm: DrizzleD1Database) {
  return orm
    .insert(versions)
    .values({ name: CATALOG, version: 1 })
    .onConflictDoUpdate({ target: versions.name, set: { version: sql`${versions.version} + 1` } });
}
