// Property-based fuzzing (fast-check) of the catalog: the public reads (browse, one
// title, search) with bad limits, sorts, types, cursors and ids; the admin catalog writes
// (titles, seasons, episodes, genres, the NDJSON import) and the ingest's upload protocol
// (rendition index, files, multipart, publish) with the admin token but malformed bodies,
// queries and paths. Each answer is one of the statuses the route documents for that
// mistake, in the standard error body, never a 500 — and nothing in D1 or R2 changes.
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { errorBodySchema } from "../../../lib/errors.ts";
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";
import { syntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { importLineSchema } from "../catalog/bulk-import.ts";
import { ADMIN, putJson } from "./admin-client.ts";
import { seedPlayableCatalog } from "./playback-client.ts";
import { badObjectOf, jsonBodyOf, parseJson, rawBodyOf, Refusals, routeSchema, segmentString, snapshot } from "./fuzz-kit.ts";

const RUNS = 1000;
/** The extra property (forged cursors that are valid in shape) is not a route group: fewer runs. */
const FORGED_RUNS = 300;

await seedPlayableCatalog();
// An asset whose upload has started (its draft index is in R2) and has no files yet.
const pending = await syntheticAsset("fuzz-pending", { heights: [240], segments: 2, audio: false });
{
  const res = await putJson("/v1/admin/assets/fuzz-pending", pending.index);
  if (res.status !== 200) throw new Error(`draft index: ${res.status} ${await res.text()}`);
}
const pendingPaths = pending.index.files.map((f) => f.path);

const listQuery = routeSchema("get", "/v1/titles", "query");
const searchQuery = routeSchema("get", "/v1/search", "query");
const newTitle = routeSchema("post", "/v1/admin/titles", "body");
const titlePatch = routeSchema("patch", "/v1/admin/titles/{id}", "body");
const newSeason = routeSchema("post", "/v1/admin/titles/{id}/seasons", "body");
const seasonPatch = routeSchema("patch", "/v1/admin/titles/{id}/seasons/{number}", "body");
const newEpisode = routeSchema("post", "/v1/admin/titles/{id}/seasons/{season}/episodes", "body");
const episodePatch = routeSchema("patch", "/v1/admin/titles/{id}/seasons/{season}/episodes/{number}", "body");
const genreBody = routeSchema("put", "/v1/admin/genres/{id}", "body");
const renditionIndex = routeSchema("put", "/v1/admin/assets/{assetId}", "body");
const multipartStart = routeSchema("post", "/v1/admin/assets/{assetId}/multipart", "body");
const partQuery = routeSchema("put", "/v1/admin/assets/{assetId}/multipart/part", "query");
const multipartComplete = routeSchema("post", "/v1/admin/assets/{assetId}/multipart/complete", "body");
const multipartAbort = routeSchema("post", "/v1/admin/assets/{assetId}/multipart/abort", "body");
const publishBody = routeSchema("post", "/v1/admin/assets/{assetId}/publish", "body");

/**
 * Where a page ended, as browse.ts reads it (its schema is private there, so it is
 * restated here): a cursor that decodes to this for the query's sort is a valid one.
 */
const cursorShape = z.discriminatedUnion("s", [
  z.object({ s: z.literal("popularity"), p: z.number(), id: z.string() }),
  z.object({ s: z.literal("newest"), y: z.number(), c: z.number(), id: z.string() }),
]);
function cursorIsValid(cursor: string, sort: string): boolean {
  const bytes = base64UrlDecode(cursor);
  if (!bytes) return false;
  try {
    const parsed = cursorShape.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success && parsed.data.s === sort;
  } catch {
    return false;
  }
}

const CATALOG_TABLES = ["titles", "assets", "genres", "title_genres", "seasons", "episodes", "credits", "people", "versions", "titles_fts_keys", "titles_fts", "titles_trigram"];

const writes = () => snapshot(CATALOG_TABLES, { r2: true });

const tally = new Refusals();
const { seen, ran } = tally;
const expectRefused = (res: Response, allowed: number[], what: string) => tally.expect(res, allowed, what);

/** Anything JSON can carry, including near-misses: wrong types, huge and negative numbers, nested junk. */
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, -1, 0, 1e308, 2101, 1869, "", " ", "movie", "series", "drama", "no-such-genre", "Drama", "2026-13-01T00:00:00Z", "x".repeat(300), "../../etc/passwd", "FIRST-LIGHT"),
);

const badObject = badObjectOf(junk);

const rawBody = rawBodyOf("name");

const jsonBody = jsonBodyOf(badObject, rawBody);

/** A path segment that is not a valid id of its kind: too long, wrong shape, or odd bytes. */
const badSegment = fc.oneof(
  segmentString,
  fc.constantFrom("-lead", "UPPER", "x y", "%00", "..%2F..", "a".repeat(81), "first-light ", "first_light", "FIRST-LIGHT", "é"),
);
/** Ids of the right shape that name nothing. */
const unknownId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/).map((s) => `zz-${s}`);
/** Season and episode numbers that are not numbers, out of range, or not integers. */
const badNumber = fc.oneof(fc.constantFrom("0", "-1", "1000", "10000", "1.5", "x", "1e2x", " 1", "0x1", "Infinity", "NaN", "１"), fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !/^\s*\d+\s*$/.test(s) && !/[/?#]/.test(s) && s !== "." && s !== ".."));

const admin = (method: string, path: string, body?: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) =>
  exports.default.fetch(`https://marquee.test${path}`, { method, headers: { ...ADMIN, ...headers }, body: method === "GET" ? undefined : body });
const enc = encodeURIComponent;

/** A query string built from [key, value] pairs, and the object the route's validator sees (a repeated key becomes a list). */
function query(pairs: [string, string][]) {
  const search = new URLSearchParams(pairs).toString();
  const grouped = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(search)) grouped.set(k, [...(grouped.get(k) ?? []), v]);
  return { search, seen: Object.fromEntries([...grouped].map(([k, v]) => [k, v.length === 1 ? v[0] : v])) };
}

describe("fuzzed catalog requests get a 4xx in the standard body and change nothing", () => {
  let kinds: readonly string[] = [];
  let minStatuses = 2;
  let minRuns = RUNS;
  beforeEach(() => {
    minStatuses = 2;
    minRuns = RUNS;
    tally.clear();
  });
  afterEach(() => {
    const said = `statuses ${JSON.stringify([...seen].sort())}, kinds ${JSON.stringify([...ran])}`;
    expect([...ran.values()].reduce((a, b) => a + b, 0), said).toBeGreaterThanOrEqual(minRuns);
    for (const kind of kinds) expect(ran.get(kind) ?? 0, `${kind}: ${said}`).toBeGreaterThanOrEqual(30);
    expect(seen.size, said).toBeGreaterThanOrEqual(minStatuses);
  });

  it("public reads: browse, one title and search with bad queries, cursors and ids", async () => {
    const before = await writes();
    const firstPage = (await (await exports.default.fetch("https://marquee.test/v1/titles?limit=1")).json()) as { nextCursor: string };
    const realCursor = JSON.parse(new TextDecoder().decode(base64UrlDecode(firstPage.nextCursor)!)) as Record<string, unknown>;
    const visible = new Set(((await (await exports.default.fetch("https://marquee.test/v1/titles?limit=100")).json()) as { titles: { id: string }[] }).titles.map((t) => t.id));
    const cursor = fc.oneof(
      fc.constant(firstPage.nextCursor.slice(0, -2)),
      fc.constant(`${firstPage.nextCursor}=`),
      fc.string({ maxLength: 60 }),
      fc.string({ minLength: 401, maxLength: 450 }),
      badObject(realCursor).map((o) => base64UrlEncode(new TextEncoder().encode(JSON.stringify(o) ?? "null"))),
      fc.constant(base64UrlEncode(new TextEncoder().encode(JSON.stringify({ ...realCursor, s: "newest" })))),
      fc.uint8Array({ maxLength: 60 }).map((b) => base64UrlEncode(b)),
    );
    const number = fc.oneof(fc.constantFrom("0", "-1", "101", "51", "1.5", "1e2", "", " ", "0x10", "Infinity", "NaN", "1e308", "9".repeat(30), "ten"), fc.string({ maxLength: 8 }));
    const listPair = fc.oneof(
      fc.tuple(fc.constant("limit"), number),
      fc.tuple(fc.constant("sort"), fc.oneof(fc.constantFrom("popularity", "newest", "POPULARITY", "oldest", "", "name"), fc.string({ maxLength: 10 }))),
      fc.tuple(fc.constant("type"), fc.oneof(fc.constantFrom("movie", "series", "episode", "", "Movie"), fc.string({ maxLength: 10 }))),
      fc.tuple(fc.constant("genre"), fc.oneof(fc.constantFrom("drama", "", "x".repeat(41)), fc.string({ maxLength: 50 }))),
      fc.tuple(fc.constant("cursor"), cursor),
      fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 })),
    );
    const searchPair = fc.oneof(
      fc.tuple(fc.constant("q"), fc.oneof(fc.constantFrom("", " ", "   \t", "light"), fc.string({ maxLength: 20 }), fc.string({ minLength: 101, maxLength: 140 }))),
      fc.tuple(fc.constant("limit"), number),
      fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(kinds = ["list", "title", "search"])),
        fc.array(listPair, { minLength: 1, maxLength: 5 }),
        fc.array(searchPair, { maxLength: 4 }),
        fc.oneof(badSegment, unknownId, fc.constantFrom("long-gone", "FIRST-LIGHT", "first-light-", "second-wind-s1e1")),
        fc.oneof(fc.constant<Record<string, string>>({}), fc.string({ maxLength: 40 }).map((s) => ({ "If-None-Match": s })), fc.string({ maxLength: 40 }).map((s) => ({ Authorization: `Bearer ${s}` }))),
        async (kind, listPairs, searchPairs, id, headers) => {
          tally.current = kind;
          const get = (path: string) => exports.default.fetch(`https://marquee.test${path}`, { headers });
          switch (kind) {
            case "list": {
              const q = query(listPairs);
              // Valid = the route's schema passes and a cursor, if any, is one of this sort's: those are answered with a page.
              // (An empty cursor is no cursor: the first page.)
              const parsed = listQuery.safeParse(q.seen);
              const data = parsed.data as { cursor?: string; sort: string } | undefined;
              fc.pre(!(parsed.success && (!data!.cursor || cursorIsValid(data!.cursor, data!.sort))));
              return expectRefused(await get(`/v1/titles?${q.search}`), [400], `?${q.search.slice(0, 100)}`);
            }
            case "title":
              fc.pre(!visible.has(id));
              return expectRefused(await get(`/v1/titles/${enc(id)}`), [400, 404], id.slice(0, 80));
            case "search": {
              const q = query(searchPairs);
              fc.pre(!searchQuery.safeParse(q.seen).success);
              return expectRefused(await get(`/v1/search?${q.search}`), [400], `?${q.search.slice(0, 100)}`);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(await writes()).toEqual(before);
  }, 180_000);

  it("forged cursors that pass the cursor's shape (extreme numbers, other ids) are answered, never a 500", async () => {
    const before = await writes();
    kinds = [];
    const n = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER, -1, 0, 8.64e15, 8.64e15 + 1));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.record({ s: fc.constant("popularity"), p: n, id: fc.string({ maxLength: 90 }) }), fc.record({ s: fc.constant("newest"), y: n, c: n, id: fc.string({ maxLength: 90 }) })),
        async (forged) => {
          const text = JSON.stringify(forged);
          // JSON has no NaN or Infinity: those become null, which the cursor's shape refuses.
          fc.pre(cursorShape.safeParse(JSON.parse(text)).success);
          tally.current = "forged";
          const res = await exports.default.fetch(`https://marquee.test/v1/titles?sort=${forged.s}&cursor=${base64UrlEncode(new TextEncoder().encode(text))}`);
          const body = await res.text();
          tally.count(res.status);
          expect([200, 400], `${text} -> ${res.status} ${body.slice(0, 200)}`).toContain(res.status);
          if (res.status === 400) expect(errorBodySchema.safeParse(JSON.parse(body)).success).toBe(true);
        },
      ),
      { numRuns: FORGED_RUNS },
    );
    expect(await writes()).toEqual(before);
    minStatuses = 1;
    minRuns = FORGED_RUNS;
  }, 180_000);

  it("admin catalog writes: titles, seasons, episodes, genres and the import, with malformed bodies and paths", async () => {
    const before = await writes();
    const existing = ["first-light", "second-wind"];
    const stored = new Set([
      ...(await env.DB.prepare("SELECT id FROM titles").all<{ id: string }>()).results.map((r) => r.id),
      ...(await env.DB.prepare("SELECT id FROM genres").all<{ id: string }>()).results.map((r) => r.id),
    ]);
    /** What the route's z.coerce.number() makes of a path segment: " 1" and "0x1" are season 1 too. */
    const isOneOf = (segment: string, numbers: number[]) => numbers.includes(Number(segment));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(kinds = ["title-create", "title-patch", "title-unknown", "title-delete", "season-create", "season-change", "episode-create", "episode-change", "genre-put", "genre-delete", "import", "wrong-method"])),
        fc.oneof(
          jsonBody({ name: "Fuzz Title", kind: "movie", releaseYear: 2020, maturityRating: "PG", genres: ["drama"], popularity: 3, availableFrom: "2020-01-01T00:00:00Z" }),
          jsonBody({ number: 7, name: "Seven", synopsis: "", runtimeSec: 60 }),
        ),
        fc.oneof(badSegment, unknownId),
        fc.constantFrom(...existing),
        fc.oneof(badNumber, fc.integer({ min: 3, max: 999 }).map(String)),
        fc.boolean(),
        fc.array(fc.oneof(badObject({ id: "fuzz-import", kind: "movie", name: "Fuzz", releaseYear: 2020, maturityRating: "PG", genres: ["drama"] }).map((o) => JSON.stringify(o) ?? "null"), rawBody.map((s) => s.replace(/\n/g, " "))), { minLength: 1, maxLength: 4 }),
        fc.constantFrom("application/x-ndjson", "application/jsonl", "application/json", "text/plain", "", "application/x-ndjson; charset=utf-8"),
        async (kind, body, badId, titleId, number, deleting, lines, type) => {
          tally.current = kind;
          const data = parseJson(body);
          // Never an id that names a stored title or genre where a delete or a valid write would change it.
          fc.pre(!stored.has(badId));
          switch (kind) {
            case "title-create":
              fc.pre(!newTitle.safeParse(data).success);
              return expectRefused(await admin("POST", "/v1/admin/titles", body), [400], body.slice(0, 100));
            case "title-patch":
              // A valid change to a title that exists is a write: only malformed ones go to them.
              fc.pre(!titlePatch.safeParse(data).success);
              return expectRefused(await admin("PATCH", `/v1/admin/titles/${titleId}`, body), [400], body.slice(0, 100));
            case "title-unknown":
              // Any body to a title that is not there, or whose id is malformed.
              return expectRefused(await admin(deleting ? "GET" : "PATCH", `/v1/admin/titles/${enc(badId)}`, body), [400, 404], `${badId.slice(0, 60)} ${body.slice(0, 60)}`);
            case "title-delete":
              return expectRefused(await admin("DELETE", `/v1/admin/titles/${enc(badId)}`), [400, 404], badId.slice(0, 80));
            case "season-create": {
              // To the movie: refused whatever the body (409 when it is valid). To the series: only malformed bodies.
              if (titleId === "second-wind") fc.pre(!newSeason.safeParse(data).success);
              return expectRefused(await admin("POST", `/v1/admin/titles/${titleId}/seasons`, body), [400, 409], `${titleId} ${body.slice(0, 80)}`);
            }
            case "season-change": {
              // Malformed or missing season numbers, refused whatever the body; the series' seasons 1 and 2 only get malformed changes and are never deleted.
              if (titleId === "second-wind" && isOneOf(number, [1, 2])) fc.pre(!deleting && !seasonPatch.safeParse(data).success);
              const res = deleting ? await admin("DELETE", `/v1/admin/titles/${titleId}/seasons/${enc(number)}`) : await admin("PATCH", `/v1/admin/titles/${titleId}/seasons/${enc(number)}`, body);
              return expectRefused(res, [400, 404, 409], `${deleting ? "DELETE" : "PATCH"} ${titleId} season ${number} ${deleting ? "" : body.slice(0, 60)}`);
            }
            case "episode-create": {
              if (titleId === "second-wind") fc.pre(!newEpisode.safeParse(data).success);
              const season = titleId === "second-wind" ? "1" : number;
              return expectRefused(await admin("POST", `/v1/admin/titles/${titleId}/seasons/${enc(season)}/episodes`, body), [400, 404, 409], `${titleId} s${season} ${body.slice(0, 60)}`);
            }
            case "episode-change": {
              // Season 1 of the series with a malformed or missing episode number, or a malformed body to its episode 1.
              if (titleId === "second-wind" && isOneOf(number, [1, 2])) fc.pre(!deleting);
              if (deleting) return expectRefused(await admin("DELETE", `/v1/admin/titles/${titleId}/seasons/1/episodes/${enc(number)}`), [400, 404, 409], `delete ${titleId} s1e${number}`);
              const target = number === "3" ? "1" : number;
              if (isOneOf(target, [1, 2]) && titleId === "second-wind") fc.pre(!episodePatch.safeParse(data).success);
              return expectRefused(await admin("PATCH", `/v1/admin/titles/${titleId}/seasons/1/episodes/${enc(target)}`, body), [400, 404, 409], `patch ${titleId} s1e${target} ${body.slice(0, 60)}`);
            }
            case "genre-put": {
              const id = deleting ? "drama" : badId;
              // A valid name for a well-formed id creates or renames a genre: only malformed ones are sent.
              fc.pre(!(genreBody.safeParse(data).success && /^[a-z0-9][a-z0-9-]{0,79}$/.test(id)));
              return expectRefused(await admin("PUT", `/v1/admin/genres/${enc(id)}`, body), [400], `${id.slice(0, 40)} ${body.slice(0, 60)}`);
            }
            case "genre-delete":
              return expectRefused(await admin("DELETE", `/v1/admin/genres/${enc(badId)}`), [400, 404], badId.slice(0, 80));
            case "import": {
              // A file of bad lines: nothing imported, every line reported; another content type is 415.
              fc.pre(lines.every((l) => !importLineSchema.safeParse(parseJson(l)).success));
              const res = await admin("POST", "/v1/admin/catalog/import", lines.join("\n"), type ? { "content-type": type } : {});
              const ndjson = ["application/x-ndjson", "application/jsonl"].includes(type.split(";")[0]!);
              if (!ndjson) return expectRefused(res, [415], `import as ${type}`);
              tally.count(res.status);
              const report = (await res.json()) as { imported: number; failedCount: number };
              expect(res.status, JSON.stringify(report)).toBe(200);
              expect(report.imported, JSON.stringify(report)).toBe(0);
              expect(report.failedCount, JSON.stringify({ lines, report })).toBe(lines.filter((l) => l.trim() !== "").length);
              return;
            }
            case "wrong-method": {
              const routes = [["GET", "/v1/admin/titles"], ["PUT", "/v1/admin/titles/first-light"], ["GET", "/v1/admin/genres/drama"], ["PATCH", "/v1/admin/genres/drama"], ["GET", "/v1/admin/catalog/import"], ["PUT", "/v1/admin/titles/second-wind/seasons"], ["GET", "/v1/admin/titles/second-wind/seasons/1"]] as const;
              const [verb, target] = routes[body.length % routes.length]!;
              return expectRefused(await admin(verb, target, body), [404, 405], `${verb} ${target}`);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(await writes()).toEqual(before);
  }, 180_000);

  it("admin ingest: rendition index, files, multipart and publish, with malformed bodies, queries and paths", async () => {
    const before = await writes();
    const fresh = await syntheticAsset("fuzz-new", { heights: [240], segments: 1, audio: false, extras: false });
    const validIndex = fresh.index as unknown as Record<string, unknown>;
    const indexBody = fc.oneof(
      jsonBody(validIndex),
      badObject((fresh.index.video[0] as unknown as Record<string, unknown>)).map((v) => JSON.stringify({ ...validIndex, video: [v] })),
      badObject(fresh.index.files[0] as unknown as Record<string, unknown>).map((f) => JSON.stringify({ ...validIndex, files: [f] })),
    );
    const listed = fc.constantFrom(...pendingPaths);
    const filePath = fc.oneof(listed, fc.constantFrom("index.json", "../asset-one/index.json", "240p/99.m4s", "/etc/passwd", "240p//1.m4s", "x".repeat(257)), fc.string({ minLength: 1, maxLength: 40 }));
    const assetId = fc.oneof(fc.constant("fuzz-pending"), fc.constant("fuzz-pending"), fc.constant("asset-one"), unknownId, badSegment);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(kinds = ["index", "status", "file", "multipart-start", "multipart-part", "multipart-complete", "multipart-abort", "publish", "no-token"])),
        indexBody,
        assetId,
        filePath,
        fc.uint8Array({ maxLength: 300 }),
        fc.oneof(
          badObject({ path: "240p/1.m4s", uploadId: "fuzz-upload", parts: [{ partNumber: 1, etag: "etag" }] }).map((o) => JSON.stringify(o) ?? "null"),
          fc.constant(JSON.stringify({ path: "240p/1.m4s", uploadId: "fuzz-upload", parts: [{ partNumber: 1, etag: "a" }, { partNumber: 1, etag: "a" }] })),
          rawBody,
        ),
        fc.oneof(
          fc.array(fc.tuple(fc.constantFrom("path", "uploadId", "partNumber", "x"), fc.oneof(listed, fc.string({ maxLength: 20 }), fc.constantFrom("0", "1", "10001", "-1", "1.5", ""))), { maxLength: 5 }),
          // A well-formed part of an upload this test never started.
          fc.record({ path: listed, uploadId: fc.string({ minLength: 1, maxLength: 40 }), partNumber: fc.constantFrom("1", "2", "10000") }).map((o) => Object.entries(o) as [string, string][]),
        ),
        fc.oneof(fc.constant<string | undefined>(undefined), fc.constantFrom("0", "-1", "abc", "99999999", "exact", "exact"), fc.nat({ max: 500 }).map(String)),
        async (kind, index, id, path, bytes, jsonish, queryPairs, length) => {
          tally.current = kind;
          const data = parseJson(jsonish);
          switch (kind) {
            case "index": {
              // An index that validates and names the URL's asset starts or resumes an upload: only malformed ones are sent.
              const url = id === "fuzz-pending" ? "fuzz-new" : id;
              const parsed = renditionIndex.safeParse(parseJson(index));
              fc.pre(!(parsed.success && (parsed.data as { assetId: string }).assetId === url));
              return expectRefused(await admin("PUT", `/v1/admin/assets/${enc(url)}`, index), [400, 409], `${url.slice(0, 40)} ${index.slice(0, 80)}`);
            }
            case "status":
              fc.pre(id !== "fuzz-pending" && id !== "asset-one");
              return expectRefused(await admin("GET", `/v1/admin/assets/${enc(id)}`), [400, 404], id.slice(0, 80));
            case "file": {
              // Random bytes under any path, with any Content-Length — or exactly the listed file's length: never its bytes.
              const size = pending.index.files.find((f) => f.path === path)?.bytes;
              const body = length === "exact" && size !== undefined ? new Uint8Array(size).map((_, i) => bytes[i % Math.max(1, bytes.length)] ?? 0) : bytes;
              fc.pre(!(size !== undefined && body.length === size && body.every((b, i) => b === pending.files.get(path)![i])));
              const sent = length === "exact" ? String(body.length) : length;
              const headers: Record<string, string> = { "content-type": "application/octet-stream", ...(sent === undefined ? {} : { "content-length": sent }) };
              const res = await exports.default.fetch(`https://marquee.test/v1/admin/assets/${enc(id)}/files/${enc(path)}`, { method: "PUT", headers: { ...ADMIN, ...headers }, body });
              // A length that is not a number is 411 (streamed bodies must say theirs), one over 100 MB 413.
              return expectRefused(res, [400, 404, 409, 411, 413, 422], `${id.slice(0, 30)} ${path.slice(0, 40)} ${body.length} bytes, length ${sent}`);
            }
            case "multipart-start": {
              // Starting one for a listed file of the draft is valid (R2 opens an upload): only the rest is sent.
              const parsed = multipartStart.safeParse(data);
              fc.pre(!(id === "fuzz-pending" && parsed.success && pendingPaths.includes((parsed.data as { path: string }).path)));
              return expectRefused(await admin("POST", `/v1/admin/assets/${enc(id)}/multipart`, jsonish), [400, 404, 409], `${id.slice(0, 30)} ${jsonish.slice(0, 80)}`);
            }
            case "multipart-part": {
              const q = query(queryPairs);
              const res = await exports.default.fetch(`https://marquee.test/v1/admin/assets/${enc(id)}/multipart/part?${q.search}`, { method: "PUT", headers: { ...ADMIN, "content-type": "application/octet-stream" }, body: bytes });
              // Uploads this test never started: every id is unknown to R2.
              return expectRefused(res, [400, 404, 409, 411], `${id.slice(0, 30)} ?${q.search.slice(0, 80)} valid query: ${partQuery.safeParse(q.seen).success}`);
            }
            case "multipart-complete":
              return expectRefused(await admin("POST", `/v1/admin/assets/${enc(id)}/multipart/complete`, jsonish), [400, 404, 409], `${id.slice(0, 30)} ${jsonish.slice(0, 80)} valid body: ${multipartComplete.safeParse(data).success}`);
            case "multipart-abort":
              return expectRefused(await admin("POST", `/v1/admin/assets/${enc(id)}/multipart/abort`, jsonish), [400, 404, 409], `${id.slice(0, 30)} ${jsonish.slice(0, 80)} valid body: ${multipartAbort.safeParse(data).success}`);
            case "publish": {
              // The draft has no files yet (409 whatever the target); the published asset would take a valid target again: only malformed ones.
              if (id === "asset-one") fc.pre(!publishBody.safeParse(data).success);
              return expectRefused(await admin("POST", `/v1/admin/assets/${enc(id)}/publish`, jsonish), [400, 404, 409], `${id.slice(0, 30)} ${jsonish.slice(0, 80)}`);
            }
            case "no-token": {
              const auth: Record<string, string> = [{}, { Authorization: `Bearer ${env.ADMIN_TOKEN.slice(0, -1)}` }, { Authorization: `Bearer ${env.ADMIN_TOKEN}x` }, { Authorization: `Basic ${env.ADMIN_TOKEN}` }, { Authorization: `Bearer ${jsonish.replace(/[^\x21-\x7e]/g, "")}` }][bytes.length % 5]!;
              const res = await exports.default.fetch(`https://marquee.test/v1/admin/assets/fuzz-new`, { method: "PUT", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(fresh.index) });
              return expectRefused(res, [401], `token ${JSON.stringify(auth).slice(0, 60)}`);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(await writes()).toEqual(before);
  }, 180_000);
});
