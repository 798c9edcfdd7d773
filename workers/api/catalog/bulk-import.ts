// The bulk catalog import: an NDJSON body read line by line as it streams in, each line
// a whole title validated on its own, good lines upserted in D1 batches, bad ones reported.
import { inArray, sql, type SQL } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { z } from "zod";
import { credits, episodes, genres, people, seasons, titleGenres, titles } from "../../../d1/schema.ts";
import { ratingLevel } from "../../../lib/maturity.ts";
import { validationDetails } from "../../../lib/errors.ts";
import { bumpCatalogVersion } from "../../../d1/catalog-version.ts";
import { catalogIdSchema, dateOrNull, personId, prepare, searchIndexStatements, titleFieldsSchema, uniqueCredits, type Stmt } from "./admin-titles.ts";

/** D1 refuses statements with more bound parameters than this. */
export const MAX_PARAMS = 100;
/** Titles per D1 batch: big enough to amortise the round trip, small enough to keep each transaction short. */
export const TITLES_PER_BATCH = 250;
/** Reported failures are capped so a file of garbage cannot make a huge response; `failedCount` has them all. */
export const MAX_REPORTED_FAILURES = 1000;
/** A line longer than this is refused without being held in memory. */
export const MAX_LINE_CHARS = 256 * 1024;

const episodeLineSchema = z.object({
  number: z.number().int().min(1).max(9999),
  name: z.string().trim().min(1).max(200),
  synopsis: z.string().max(4000).default(""),
  runtimeSec: z.number().int().min(1).max(86_400).nullable().default(null),
});

const seasonLineSchema = z.object({
  number: z.number().int().min(1).max(999),
  name: z.string().trim().min(1).max(200).optional(),
  episodes: z.array(episodeLineSchema).max(1000).default([]),
});

const unique = (numbers: number[]) => new Set(numbers).size === numbers.length;

/** One line of the file: a whole title, keyed by its id (re-importing updates it in place). */
export const importLineSchema = titleFieldsSchema
  .extend({
    id: catalogIdSchema,
    synopsis: titleFieldsSchema.shape.synopsis.default(""),
    runtimeSec: titleFieldsSchema.shape.runtimeSec.default(null),
    posterPath: titleFieldsSchema.shape.posterPath.default(null),
    availableFrom: titleFieldsSchema.shape.availableFrom.default(null),
    availableUntil: titleFieldsSchema.shape.availableUntil.default(null),
    popularity: titleFieldsSchema.shape.popularity.default(0),
    genres: titleFieldsSchema.shape.genres.default([]),
    credits: titleFieldsSchema.shape.credits.default([]),
    seasons: z.array(seasonLineSchema).max(200).default([]),
  })
  .refine((t) => !t.availableFrom || !t.availableUntil || Date.parse(t.availableFrom) < Date.parse(t.availableUntil), {
    message: "availableFrom must be before availableUntil",
    path: ["availableUntil"],
  })
  .refine((t) => t.kind === "series" || t.seasons.length === 0, { message: "only series have seasons", path: ["seasons"] })
  .refine((t) => unique(t.seasons.map((s) => s.number)), { message: "season numbers repeat", path: ["seasons"] })
  .refine((t) => t.seasons.every((s) => unique(s.episodes.map((e) => e.number))), { message: "episode numbers repeat within a season", path: ["seasons"] });

export type ImportLine = z.infer<typeof importLineSchema>;
export type LineError = { path: string; message: string };
export type ImportReport = { imported: number; failed: { line: number; errors: LineError[] }[]; failedCount: number };

/** The body's lines (without their \n or \r\n), `null` for a line over the limit; never the whole body in memory. */
export async function* readLines(body: ReadableStream<Uint8Array>, maxChars = MAX_LINE_CHARS): AsyncGenerator<string | null> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let carry = "";
  let overflow = false;
  const strip = (s: string) => (s.endsWith("\r") ? s.slice(0, -1) : s);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const parts = value.split("\n");
    for (let k = 0; k < parts.length; k++) {
      if (!overflow) carry += parts[k];
      if (!overflow && carry.length > maxChars) {
        overflow = true;
        carry = "";
      }
      if (k < parts.length - 1) {
        yield overflow ? null : strip(carry);
        carry = "";
        overflow = false;
      }
    }
  }
  if (overflow) yield null;
  else if (carry.length > 0) yield strip(carry);
}

/**
 * Multi-row inserts split so that no statement binds more than MAX_PARAMS values: the rows
 * per statement come from the statement itself, so a column added later cannot break it.
 */
export function chunkedInserts<R>(rows: R[], build: (rows: R[]) => Stmt): Stmt[] {
  if (rows.length === 0) return [];
  const perRow = build(rows.slice(0, 1)).toSQL().params.length;
  const size = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, perRow)));
  const out: Stmt[] = [];
  for (let i = 0; i < rows.length; i += size) out.push(build(rows.slice(i, i + size)));
  return out;
}

/** `DELETE … WHERE col IN (…)` in statements of at most MAX_PARAMS ids. */
function chunkedIn(ids: string[], build: (ids: string[]) => Stmt): Stmt[] {
  const out: Stmt[] = [];
  for (let i = 0; i < ids.length; i += MAX_PARAMS) out.push(build(ids.slice(i, i + MAX_PARAMS)));
  return out;
}

const excluded = (column: string) => sql.raw(`excluded.${column}`);

/** Only rows that differ are updated, so a re-import leaves even `updated_at` alone. */
function differs(table: string, columns: string[]): SQL {
  return sql.raw(columns.map((c) => `${table}.${c} IS NOT excluded.${c}`).join(" OR "));
}

const TITLE_COLUMNS = {
  kind: "kind",
  name: "name",
  synopsis: "synopsis",
  releaseYear: "release_year",
  maturityRating: "maturity_rating",
  maturityLevel: "maturity_level",
  runtimeSec: "runtime_sec",
  posterPath: "poster_path",
  availableFrom: "available_from",
  availableUntil: "available_until",
  popularity: "popularity",
} as const;

/**
 * Every statement that writes these titles, in foreign-key order. Genres links and credits
 * are replaced by the line's; seasons and episodes are upserted (never deleted, so episodes'
 * linked videos survive); a title's or episode's video link is never touched.
 */
export function importStatements(orm: DrizzleD1Database, lines: ImportLine[], now: Date): Stmt[] {
  const ids = lines.map((t) => t.id);
  const titleRows = lines.map((t) => ({
    id: t.id,
    kind: t.kind,
    name: t.name,
    synopsis: t.synopsis,
    releaseYear: t.releaseYear,
    maturityRating: t.maturityRating,
    maturityLevel: ratingLevel(t.maturityRating),
    runtimeSec: t.runtimeSec,
    posterPath: t.posterPath,
    availableFrom: dateOrNull(t.availableFrom),
    availableUntil: dateOrNull(t.availableUntil),
    popularity: t.popularity,
    createdAt: now,
    updatedAt: now,
  }));
  const titleSet = Object.fromEntries([...Object.entries(TITLE_COLUMNS).map(([k, c]) => [k, excluded(c)]), ["updatedAt", excluded("updated_at")]]);
  const genreRows = lines.flatMap((t) => [...new Set(t.genres)].map((genreId) => ({ titleId: t.id, genreId })));
  const creditRows = lines.flatMap((t) =>
    uniqueCredits(t.credits).map((c, position) => ({ titleId: t.id, personId: personId(c.name), role: c.role, character: c.character ?? null, position })),
  );
  const personRows = [...new Map(lines.flatMap((t) => t.credits.map((c) => [personId(c.name), { id: personId(c.name), name: c.name }] as const))).values()];
  const seasonRows = lines.flatMap((t) => t.seasons.map((s) => ({ id: `${t.id}-s${s.number}`, titleId: t.id, number: s.number, name: s.name ?? `Season ${s.number}` })));
  const episodeRows = lines.flatMap((t) =>
    t.seasons.flatMap((s) =>
      s.episodes.map((e) => ({
        id: `${t.id}-s${s.number}e${e.number}`,
        seasonId: `${t.id}-s${s.number}`,
        number: e.number,
        name: e.name,
        synopsis: e.synopsis,
        runtimeSec: e.runtimeSec,
        createdAt: now,
        updatedAt: now,
      })),
    ),
  );
  return [
    ...chunkedInserts(titleRows, (rows) =>
      orm.insert(titles).values(rows).onConflictDoUpdate({ target: titles.id, set: titleSet, setWhere: differs("titles", Object.values(TITLE_COLUMNS)) }),
    ),
    ...chunkedIn(ids, (chunk) => orm.delete(titleGenres).where(inArray(titleGenres.titleId, chunk))),
    ...chunkedInserts(genreRows, (rows) => orm.insert(titleGenres).values(rows)),
    ...chunkedInserts(personRows, (rows) => orm.insert(people).values(rows).onConflictDoNothing()),
    ...chunkedIn(ids, (chunk) => orm.delete(credits).where(inArray(credits.titleId, chunk))),
    ...chunkedInserts(creditRows, (rows) => orm.insert(credits).values(rows)),
    ...chunkedInserts(seasonRows, (rows) =>
      orm.insert(seasons).values(rows).onConflictDoUpdate({ target: seasons.id, set: { name: excluded("name") }, setWhere: differs("seasons", ["name"]) }),
    ),
    ...chunkedInserts(episodeRows, (rows) =>
      orm
        .insert(episodes)
        .values(rows)
        .onConflictDoUpdate({
          target: episodes.id,
          set: { name: excluded("name"), synopsis: excluded("synopsis"), runtimeSec: excluded("runtime_sec"), updatedAt: excluded("updated_at") },
          setWhere: differs("episodes", ["name", "synopsis", "runtime_sec"]),
        }),
    ),
  ];
}

function lineErrors(text: string | null, known: Set<string>): { ok: true; line: ImportLine } | { ok: false; errors: LineError[] } {
  if (text === null) return { ok: false, errors: [{ path: "", message: `line longer than ${MAX_LINE_CHARS} characters` }] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [{ path: "", message: `not JSON: ${(err as Error).message}` }] };
  }
  const parsed = importLineSchema.safeParse(value);
  if (!parsed.success) return { ok: false, errors: validationDetails(parsed.error) };
  const unknown = parsed.data.genres.flatMap((g, i) => (known.has(g) ? [] : [{ path: `genres.${i}`, message: `no genre ${g}` }]));
  if (unknown.length > 0) return { ok: false, errors: unknown };
  return { ok: true, line: parsed.data };
}

/**
 * Imports an NDJSON body. Line numbers are 1-based and count blank lines (which are
 * skipped), so they match an editor's. The catalog version is bumped once, in the last
 * batch, after every title is written: caches keyed by the old version cannot outlive the import.
 */
export async function importCatalog(db: D1Database, body: ReadableStream<Uint8Array>, now: Date, options: { titlesPerBatch?: number } = {}): Promise<ImportReport> {
  const orm = drizzle(db);
  const perBatch = options.titlesPerBatch ?? TITLES_PER_BATCH;
  const known = new Set((await orm.select({ id: genres.id }).from(genres)).map((g) => g.id));
  const report: ImportReport = { imported: 0, failed: [], failedCount: 0 };
  let pending = new Map<string, ImportLine>();
  let written = false;

  const flush = async (final: boolean) => {
    const lines = [...pending.values()];
    pending = new Map();
    const statements = importStatements(orm, lines, now).map((q) => prepare(db, q));
    const reindex = searchIndexStatements(db, lines.map((l) => l.id));
    const bump = final && (written || lines.length > 0) ? [prepare(db, bumpCatalogVersion(orm))] : [];
    const all = [...statements, ...reindex, ...bump];
    if (all.length === 0) return;
    await db.batch(all);
    written = true;
    report.imported += lines.length;
  };

  let lineNo = 0;
  try {
    for await (const text of readLines(body)) {
      lineNo++;
      if (text !== null && text.trim() === "") continue;
      const result = lineErrors(text, known);
      if (!result.ok) {
        report.failedCount++;
        if (report.failed.length < MAX_REPORTED_FAILURES) report.failed.push({ line: lineNo, errors: result.errors });
        continue;
      }
      // The same id twice in one batch would make its upsert touch a row twice (an error): the later line wins, in the next batch.
      if (pending.has(result.line.id)) await flush(false);
      pending.set(result.line.id, result.line);
      if (pending.size >= perBatch) await flush(false);
    }
    await flush(true);
  } catch (err) {
    // What was written before the failure must still invalidate cached catalog responses.
    if (written) await db.batch([prepare(db, bumpCatalogVersion(orm))]).catch(() => undefined);
    throw err;
  }
  return report;
}
