// GET /v1/search: ranking, prefixes, accents and case, cast names, typo tolerance,
// availability, maturity, and the index following writes made in plain SQL.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { reindexTitleStatements } from "../catalog/search-index.ts";
import { call, signUp } from "./auth-client.ts";

type Result = { id: string; kind: string; name: string; releaseYear: number; maturityRating: string; posterPath: string | null; synopsis: string; match: "fulltext" | "fuzzy" };
type Body = { query: string; results: Result[] };

const DAY = 86_400_000;

function title(id: string, name: string, synopsis: string, extra: { rating?: string; level?: number; popularity?: number; from?: number | null; until?: number | null } = {}) {
  const now = Date.now();
  return env.DB.prepare(
    `INSERT INTO titles (id, kind, name, synopsis, release_year, maturity_rating, maturity_level, popularity, poster_path, available_from, available_until, created_at, updated_at)
     VALUES (?, 'movie', ?, ?, 2024, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).bind(id, name, synopsis, extra.rating ?? "PG", extra.level ?? 1, extra.popularity ?? 0, `/artwork/${id}.svg`, extra.from ?? null, extra.until ?? null, now, now);
}

/** A catalog write as every writer makes it: the change and a catalog version bump together. */
const bump = () => env.DB.prepare("INSERT INTO versions (name, version) VALUES ('catalog', 1) ON CONFLICT(name) DO UPDATE SET version = version + 1");
const write = (...statements: D1PreparedStatement[]) => env.DB.batch([...statements, bump()]);

async function search(q: string, init: { headers?: Record<string, string>; limit?: number } = {}) {
  const params = new URLSearchParams({ q });
  if (init.limit !== undefined) params.set("limit", String(init.limit));
  const res = await call(`/v1/search?${params}`, { headers: init.headers });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Body;
}

const ids = (body: Body) => body.results.map((r) => r.id);

beforeAll(async () => {
  await env.DB.batch([
    title("keyframes", "Keyframes", "An animator races a deadline.", { popularity: 5 }),
    title("packet-pals", "Packet Pals", "Two routers become friends.", { rating: "G", level: 0 }),
    title("amelie", "Amélie", "A shy waitress in Montmartre.", { rating: "R", level: 3 }),
    title("zoe", "ZOË AND THE SEA", "A girl and a lighthouse.", { popularity: 1 }),
    // "lighthouse" in the name of one, the synopsis of another (far more popular).
    title("lighthouse", "The Lighthouse Keeper", "Storms and solitude.", { popularity: 0 }),
    title("harbour", "Harbour Lights", "A lighthouse keeper's daughter leaves home.", { popularity: 10_000 }),
    title("future", "Tomorrowland Express", "Not out yet.", { from: Date.now() + 30 * DAY }),
    title("expired", "Yesterday Express", "No longer available.", { until: Date.now() - DAY }),
    title("window", "Window Express", "Available right now.", { from: Date.now() - DAY, until: Date.now() + DAY }),
    title("night-shift", "Night Shift", "Bodies in the morgue.", { rating: "TV-MA", level: 3 }),
    title("night-owls", "Night Owls", "Owls, at night.", { rating: "TV-Y", level: 0 }),
    env.DB.prepare("INSERT INTO people (id, name) VALUES ('sigourney', 'Siobhán Quillfeather'), ('dir', 'Otto Brennan')"),
    env.DB.prepare(
      "INSERT INTO credits (title_id, person_id, role, character, position) VALUES ('keyframes', 'sigourney', 'cast', 'Ada', 0), ('keyframes', 'dir', 'director', NULL, 1)",
    ),
  ]);
});

describe("GET /v1/search", () => {
  it("answers the response shape, privately cacheable", async () => {
    const res = await call("/v1/search?q=keyframes");
    expect(res.status).toBe(200);
    // Cached at the edge per catalog version and maturity level; clients revalidate.
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    expect(res.headers.get("etag")).toMatch(/^"c\d+-[0-9a-f]{20}"$/);
    const body = (await res.json()) as Body;
    expect(body.query).toBe("keyframes");
    expect(body.results[0]).toEqual({
      id: "keyframes",
      kind: "movie",
      name: "Keyframes",
      releaseYear: 2024,
      maturityRating: "PG",
      posterPath: "/artwork/keyframes.svg",
      synopsis: "An animator races a deadline.",
      match: "fulltext",
    });
  });

  it("ranks a name match above a synopsis-only match, however popular", async () => {
    const body = await search("lighthouse");
    expect(ids(body).slice(0, 2)).toEqual(["lighthouse", "harbour"]);
    expect(body.results.every((r) => r.match === "fulltext")).toBe(true);
  });

  it("treats the last word as a prefix, earlier words as whole words", async () => {
    expect(ids(await search("key"))).toEqual(["keyframes"]);
    expect(ids(await search("kee"))).toEqual(["lighthouse", "harbour"]); // Keeper, in a name, then in a synopsis
    expect(ids(await search("keyf"))[0]).toBe("keyframes");
    expect(ids(await search("k"))).toContain("keyframes");
    expect(ids(await search("packet p"))).toEqual(["packet-pals"]);
    // "pack" is not a whole word of any title, so as a non-last word it matches nothing full-text.
    expect((await search("pack pals")).results.filter((r) => r.match === "fulltext")).toEqual([]);
  });

  it("ignores accents and case, both ways", async () => {
    expect(ids(await search("amelie"))).toEqual(["amelie"]);
    expect(ids(await search("AMÉLIE"))).toEqual(["amelie"]);
    expect(ids(await search("ZOE"))).toContain("zoe");
    expect(ids(await search("zoë and the sea"))).toEqual(["zoe"]);
    // Decomposed input (e + combining acute) reads like the precomposed catalog text.
    expect(ids(await search("Ame\u0301lie"))).toEqual(["amelie"]);
  });

  it("finds a title by a cast or crew name, accents folded", async () => {
    expect(ids(await search("siobhan"))).toEqual(["keyframes"]);
    expect(ids(await search("quillfeath"))).toEqual(["keyframes"]);
    expect(ids(await search("brennan animator"))).toEqual(["keyframes"]);
  });

  it("tolerates typos through trigram similarity of names", async () => {
    const typo = await search("keyfrmes");
    expect(typo.results[0]).toMatchObject({ id: "keyframes", match: "fuzzy" });
    expect(ids(await search("packt pals"))[0]).toBe("packet-pals");
    expect(ids(await search("amelei"))).toEqual(["amelie"]);
    // A short word with a typo near its middle keeps too few trigrams (aml mli lie: only lie).
    expect(ids(await search("amlie"))).toEqual([]);
    // Nor does a shared fragment make names alike: igh, ght are not "night".
    expect(ids(await search("night")).sort()).toEqual(["night-owls", "night-shift"]);
    expect(ids(await search("lighthose keeper"))[0]).toBe("lighthouse");
    // Nothing alike: nothing, not everything.
    expect((await search("xylophone")).results).toEqual([]);
  });

  it("puts full-text results before fuzzy ones, without duplicates", async () => {
    const body = await search("night");
    const kinds = body.results.map((r) => r.match);
    expect(kinds.slice(0, 2)).toEqual(["fulltext", "fulltext"]);
    expect(kinds.indexOf("fulltext", 2)).toBe(-1);
    expect(new Set(ids(body)).size).toBe(body.results.length);
    // Enough full-text results: no fuzzy ones at all.
    expect((await search("express")).results.every((r) => r.match === "fulltext")).toBe(true);
  });

  it("shows only titles available now", async () => {
    const body = await search("express");
    expect(ids(body)).toEqual(["window"]);
    expect(ids(await search("tomorrowland"))).toEqual([]);
    expect(ids(await search("yesterday"))).toEqual([]);
    expect(ids(await search("tomorowland"))).toEqual([]); // nor through the fuzzy fallback
  });

  it("respects limit", async () => {
    expect((await search("a", { limit: 1 })).results).toHaveLength(1);
    expect((await search("night", { limit: 50 })).results.length).toBeGreaterThan(0);
  });

  it("caps results at a kids profile's level; signed out and adult profiles see everything", async () => {
    expect(ids(await search("night"))).toEqual(expect.arrayContaining(["night-shift", "night-owls"]));
    const m = await signUp();
    expect(ids(await search("night", { headers: m.headers }))).toEqual(expect.arrayContaining(["night-shift", "night-owls"]));
    const created = await call("/v1/profiles", { json: { name: "Kid", isKids: true }, headers: m.headers });
    expect(created.status).toBe(201);
    const kid = (await created.json()) as { id: string };
    expect((await call(`/v1/profiles/${kid.id}/enter`, { json: {}, headers: m.headers })).status).toBe(200);
    for (const q of ["night", "night shift", "nigth shift", "morgue", "amelie", "amlie"]) {
      const body = await search(q, { headers: m.headers });
      expect(body.results.map((r) => r.maturityRating)).not.toContain("TV-MA");
      expect(body.results.map((r) => r.maturityRating)).not.toContain("R");
    }
    expect(ids(await search("night", { headers: m.headers }))).toEqual(["night-owls"]);
  });

  it("follows renames made in plain SQL (triggers) and credits added or removed", async () => {
    await write(title("rename-me", "Quokka Quest", "A marsupial adventure."));
    expect(ids(await search("quokka"))).toEqual(["rename-me"]);
    await write(env.DB.prepare("UPDATE titles SET name = 'Wombat Walk' WHERE id = 'rename-me'"));
    expect(ids(await search("wombat"))).toEqual(["rename-me"]);
    expect(ids(await search("quokka"))).toEqual([]);
    expect(ids(await search("qokka quest"))).toEqual([]); // the trigram index follows too

    await write(
      env.DB.prepare("INSERT INTO people (id, name) VALUES ('zed', 'Zebulon Figg')"),
      env.DB.prepare("INSERT INTO credits (title_id, person_id, role, position) VALUES ('rename-me', 'zed', 'cast', 0)"),
    );
    expect(ids(await search("zebulon"))).toEqual(["rename-me"]);
    await write(env.DB.prepare("UPDATE people SET name = 'Zebediah Figg' WHERE id = 'zed'"));
    expect(ids(await search("zebulon"))).toEqual([]);
    expect(ids(await search("zebediah"))).toEqual(["rename-me"]);
    await write(env.DB.prepare("DELETE FROM credits WHERE person_id = 'zed'"));
    expect(ids(await search("zebediah"))).toEqual([]);

    // Deleting a title with credits: the cascade's credit triggers must not bring it back.
    await write(env.DB.prepare("INSERT INTO credits (title_id, person_id, role, position) VALUES ('rename-me', 'zed', 'cast', 0)"));
    await write(env.DB.prepare("DELETE FROM titles WHERE id = 'rename-me'"));
    expect(ids(await search("zebediah"))).toEqual([]);
    expect(ids(await search("wombat"))).toEqual([]);
    const leftovers = await env.DB.prepare("SELECT count(*) AS n FROM titles_fts_keys WHERE title_id = 'rename-me'").first<{ n: number }>();
    expect(leftovers!.n).toBe(0);
  });

  it("reindexTitleStatements rebuilds rows idempotently, in chunks of at most 100 parameters", async () => {
    // Simulate an index that missed a write (e.g. restored without triggers).
    await write(title("drift", "Old Drift Name", "Synopsis."));
    await write(env.DB.prepare("DELETE FROM titles_fts"), env.DB.prepare("DELETE FROM titles_trigram"));
    expect(ids(await search("drift"))).toEqual([]);
    const all = (await env.DB.prepare("SELECT id FROM titles").all<{ id: string }>()).results.map((r) => r.id);
    const many = [...all, ...Array.from({ length: 150 }, (_, i) => `missing-${i}`)];
    const statements = reindexTitleStatements(env.DB, many);
    expect(statements.length).toBe(6 * Math.ceil(many.length / 100));
    await write(...statements);
    await write(...reindexTitleStatements(env.DB, many)); // twice: same result
    expect(ids(await search("drift"))).toEqual(["drift"]);
    expect(ids(await search("siobhan"))).toEqual(["keyframes"]);
    const counts = await env.DB.prepare("SELECT (SELECT count(*) FROM titles_fts) AS fts, (SELECT count(*) FROM titles_trigram) AS tri, (SELECT count(*) FROM titles) AS titles").first<{ fts: number; tri: number; titles: number }>();
    expect(counts).toEqual({ fts: counts!.titles, tri: counts!.titles, titles: counts!.titles });
  });

  it("the migration indexes titles that existed before it", async () => {
    // Undo 0004 and run it again over the catalog seeded above, as a deploy would.
    await env.DB.batch(
      [
        "DROP TRIGGER titles_fts_ai", "DROP TRIGGER titles_fts_au", "DROP TRIGGER titles_fts_ad",
        "DROP TRIGGER credits_fts_ai", "DROP TRIGGER credits_fts_ad", "DROP TRIGGER credits_fts_au", "DROP TRIGGER people_fts_au",
        "DROP TABLE titles_fts", "DROP TABLE titles_trigram", "DROP TABLE titles_fts_keys",
      ].map((sql) => env.DB.prepare(sql)),
    );
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0004_titles_fts"))!;
    await env.DB.batch(migration.queries.map((sql) => env.DB.prepare(sql)));
    expect(ids(await search("siobhan"))).toEqual(["keyframes"]);
    expect(ids(await search("lighthouse"))[0]).toBe("lighthouse");
    expect(ids(await search("keyfrmes"))).toEqual(["keyframes"]);
  });
});
