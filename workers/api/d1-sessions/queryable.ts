// What services that read and write D1 take: the binding or one request's D1 session
// (both have prepare() and batch()), and drizzle over either.
import { drizzle } from "drizzle-orm/d1";

/** `c.env.DB` (the primary) or a `D1DatabaseSession` (replicas, with a bookmark). */
export type D1Queryable = Pick<D1Database, "prepare" | "batch">;

/**
 * drizzle over the binding or a session. drizzle-orm's D1 driver (0.45) calls only
 * `prepare()` and `batch()` of its client (d1/session.js); its parameter type just names
 * `D1Database`.
 */
export function drizzleOf(db: D1Queryable) {
  return drizzle(db as D1Database);
}

/**
 * For a service outside this change still typed `db: D1Database` whose code only calls
 * `prepare`/`batch` (directly or through drizzle) — checked by reading it. Widening that
 * parameter to D1Queryable is the better fix; this is the bridge until then.
 */
export function asD1Database(db: D1Queryable): D1Database {
  return db as D1Database;
}
