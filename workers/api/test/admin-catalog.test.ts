// The admin catalog CRUD: titles, seasons, episodes and genres — what they write, what they
// refuse, and that each write bumps the catalog version exactly once.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { api, putJson } from "./admin-client.ts";

const version = async () => ((await env.DB.prepare("SELECT version FROM versions WHERE name = 'catalog'").first<{ version: number }>())?.version ?? 0);

/** Runs a write and checks it bumped the catalog version by exactly `by`. */
async function bumps<T>(by: number, write: () => Promise<T>): Promise<T> {
  const before = await version();
  const result = await write();
  expect(await version()).toBe(before + by);
  return result;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  return body;
}

const post = (path: string, body: unknown) => putJson(path, body, "POST");
const patch = (path: string, body: unknown) => putJson(path, body, "PATCH");
const del = (path: string) => api(path, { method: "DELETE" });
const read = async (id: string) => (await (await api(`/v1/admin/titles/${id}`)).json()) as Record<string, unknown>;

beforeAll(async () => {
  expect((await putJson("/v1/admin/genres/drama", { name: "Drama" })).status).toBe(200);
  expect((await putJson("/v1/admin/genres/comedy", { name: "Comedy" })).status).toBe(200);
});

describe("titles", () => {
  it("are created with every field, genres and credits, people created as needed", async () => {
    const res = await bumps(1, () =>
      post("/v1/admin/titles", {
        id: "night-shift",
        kind: "movie",
        name: "Night Shift",
        synopsis: "A long night.",
        releaseYear: 2023,
        maturityRating: "PG-13",
        runtimeSec: 5400,
        posterPath: "/artwork/night-shift.svg",
        availableFrom: "2024-01-01T00:00:00Z",
        availableUntil: "2030-01-01T00:00:00.000Z",
        popularity: 12.5,
        genres: ["drama", "comedy"],
        credits: [
          { name: "Ada Lane", role: "cast", character: "Nurse" },
          { name: "Bo Park", role: "director" },
        ],
      }),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: "night-shift" });
    expect(await read("night-shift")).toMatchObject({
      kind: "movie",
      name: "Night Shift",
      maturityRating: "PG-13",
      maturityLevel: 2,
      runtimeSec: 5400,
      posterPath: "/artwork/night-shift.svg",
      availableFrom: "2024-01-01T00:00:00.000Z",
      availableUntil: "2030-01-01T00:00:00.000Z",
      popularity: 12.5,
      genres: ["comedy", "drama"],
      credits: [
        { name: "Ada Lane", role: "cast", character: "Nurse" },
        { name: "Bo Park", role: "director", character: null },
      ],
      seasons: [],
    });
    const people = await env.DB.prepare("SELECT count(*) AS n FROM people WHERE name IN ('Ada Lane', 'Bo Park')").first<{ n: number }>();
    expect(people?.n).toBe(2);
  });

  it("keep the ingest's minimal creation working (name and kind only, id generated)", async () => {
    const res = await bumps(1, () => post("/v1/admin/titles", { name: "Quick One", kind: "series" }));
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^quick-one-/);
    expect(await read(id)).toMatchObject({ kind: "series", maturityRating: "NR", maturityLevel: 3, genres: [], credits: [] });
  });

  it("are patched: the level follows the rating, genres and credits are replaced, other fields stay", async () => {
    await post("/v1/admin/titles", { id: "patch-me", name: "Patch Me", maturityRating: "R", genres: ["drama"], credits: [{ name: "Cy Old", role: "cast" }] });
    const res = await bumps(1, () => patch("/v1/admin/titles/patch-me", { maturityRating: "G", genres: ["comedy"], credits: [{ name: "Di New", role: "writer" }], availableUntil: null }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "Patch Me", maturityRating: "G", maturityLevel: 0, genres: ["comedy"], credits: [{ name: "Di New", role: "writer" }] });
  });

  it("are deleted with their seasons, episodes, genre links and credits", async () => {
    await post("/v1/admin/titles", { id: "doomed", name: "Doomed", kind: "series", genres: ["drama"], credits: [{ name: "Ed Gone", role: "creator" }] });
    await post("/v1/admin/titles/doomed/seasons", { number: 1 });
    await post("/v1/admin/titles/doomed/seasons/1/episodes", { number: 1, name: "Pilot" });
    expect((await bumps(1, () => del("/v1/admin/titles/doomed"))).status).toBe(204);
    for (const table of ["title_genres", "credits", "seasons"]) {
      expect((await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE title_id = 'doomed'`).first<{ n: number }>())?.n).toBe(0);
    }
    expect((await env.DB.prepare("SELECT count(*) AS n FROM episodes WHERE id LIKE 'doomed-%'").first<{ n: number }>())?.n).toBe(0);
    await expectError(await api("/v1/admin/titles/doomed"), 404, "NOT_FOUND");
  });
});

describe("seasons and episodes", () => {
  beforeAll(async () => {
    await post("/v1/admin/titles", { id: "long-run", name: "Long Run", kind: "series" });
  });

  it("are created, renamed and deleted, one version bump each", async () => {
    expect((await bumps(1, () => post("/v1/admin/titles/long-run/seasons", { number: 1, name: "The Start" }))).status).toBe(201);
    const ep = await bumps(1, () => post("/v1/admin/titles/long-run/seasons/1/episodes", { number: 2, name: "Two", synopsis: "Second.", runtimeSec: 1500 }));
    expect(ep.status).toBe(201);
    expect(await ep.json()).toEqual({ id: "long-run-s1e2" });
    expect((await bumps(1, () => patch("/v1/admin/titles/long-run/seasons/1", { name: "Beginnings" }))).status).toBe(204);
    expect((await bumps(1, () => patch("/v1/admin/titles/long-run/seasons/1/episodes/2", { name: "Deux", runtimeSec: null }))).status).toBe(204);
    expect(await read("long-run")).toMatchObject({
      seasons: [{ number: 1, name: "Beginnings", episodes: [{ id: "long-run-s1e2", number: 2, name: "Deux", synopsis: "Second.", runtimeSec: null, assetId: null }] }],
    });
    expect((await bumps(1, () => del("/v1/admin/titles/long-run/seasons/1/episodes/2"))).status).toBe(204);
    expect((await bumps(1, () => del("/v1/admin/titles/long-run/seasons/1"))).status).toBe(204);
    expect((await read("long-run")).seasons).toEqual([]);
  });

  it("refuse duplicates (409), unknown ones (404), and a movie (409), changing nothing", async () => {
    await post("/v1/admin/titles/long-run/seasons", { number: 3 });
    await post("/v1/admin/titles", { id: "a-movie", name: "A Movie" });
    await bumps(0, async () => {
      await expectError(await post("/v1/admin/titles/long-run/seasons", { number: 3 }), 409, "CONFLICT");
      await expectError(await post("/v1/admin/titles/a-movie/seasons", { number: 1 }), 409, "CONFLICT");
      await expectError(await post("/v1/admin/titles/a-movie/seasons/1/episodes", { number: 1 }), 409, "CONFLICT");
      await expectError(await post("/v1/admin/titles/nope/seasons", { number: 1 }), 404, "NOT_FOUND");
      await expectError(await patch("/v1/admin/titles/long-run/seasons/9", { name: "x" }), 404, "NOT_FOUND");
      await expectError(await del("/v1/admin/titles/long-run/seasons/9"), 404, "NOT_FOUND");
      await expectError(await post("/v1/admin/titles/long-run/seasons/9/episodes", { number: 1 }), 404, "NOT_FOUND");
      await expectError(await patch("/v1/admin/titles/long-run/seasons/3/episodes/1", { name: "x" }), 404, "NOT_FOUND");
      await expectError(await del("/v1/admin/titles/long-run/seasons/3/episodes/1"), 404, "NOT_FOUND");
    });
  });

  it("refuse turning a series with seasons into a movie", async () => {
    await expectError(await bumps(0, () => patch("/v1/admin/titles/long-run", { kind: "movie" })), 409, "CONFLICT");
  });
});

describe("genres", () => {
  it("are created, renamed and deleted; titles lose a deleted genre", async () => {
    expect(await (await bumps(1, () => putJson("/v1/admin/genres/noir", { name: "Noir" }))).json()).toEqual({ id: "noir", name: "Noir", created: true });
    expect(await (await bumps(1, () => putJson("/v1/admin/genres/noir", { name: "Film Noir" }))).json()).toEqual({ id: "noir", name: "Film Noir", created: false });
    await post("/v1/admin/titles", { id: "dark-city", name: "Dark City", genres: ["noir", "drama"] });
    expect((await bumps(1, () => del("/v1/admin/genres/noir"))).status).toBe(204);
    expect((await read("dark-city")).genres).toEqual(["drama"]);
  });

  it("refuse a name another genre has (409) and an unknown id (404)", async () => {
    await bumps(0, async () => {
      await expectError(await putJson("/v1/admin/genres/drama-2", { name: "drama" }), 409, "CONFLICT");
      await expectError(await del("/v1/admin/genres/nope"), 404, "NOT_FOUND");
    });
  });
});

describe("validation", () => {
  it.each([
    ["a missing name", { kind: "movie" }, "name"],
    ["a wrong kind", { name: "X", kind: "short" }, "kind"],
    ["a year of the wrong type", { name: "X", releaseYear: "2020" }, "releaseYear"],
    ["a date that is not ISO", { name: "X", availableFrom: "next tuesday" }, "availableFrom"],
    ["a window that ends before it starts", { name: "X", availableFrom: "2025-01-01T00:00:00Z", availableUntil: "2024-01-01T00:00:00Z" }, "availableUntil"],
    ["a credit without a role", { name: "X", credits: [{ name: "Y" }] }, "credits.0.role"],
    ["an unknown genre", { name: "X", genres: ["drama", "nope"] }, "genres.1"],
    ["a bad id", { id: "Has Spaces", name: "X" }, "id"],
  ])("refuses %s with 400 VALIDATION_FAILED and where", async (_, body, path) => {
    const error = await bumps(0, async () => expectError(await post("/v1/admin/titles", body), 400, "VALIDATION_FAILED"));
    expect((error.error.details as { path: string }[]).map((d) => d.path)).toContain(path);
  });

  it("refuses an empty patch, a bad patch and a patch of an unknown title", async () => {
    await post("/v1/admin/titles", { id: "valid-one", name: "Valid One", availableFrom: "2025-01-01T00:00:00Z" });
    await bumps(0, async () => {
      await expectError(await patch("/v1/admin/titles/valid-one", {}), 400, "VALIDATION_FAILED");
      await expectError(await patch("/v1/admin/titles/valid-one", { popularity: -1 }), 400, "VALIDATION_FAILED");
      // Only one end given: checked against the stored other end.
      await expectError(await patch("/v1/admin/titles/valid-one", { availableUntil: "2024-01-01T00:00:00Z" }), 400, "VALIDATION_FAILED");
      await expectError(await patch("/v1/admin/titles/nope", { name: "x" }), 404, "NOT_FOUND");
      await expectError(await del("/v1/admin/titles/nope"), 404, "NOT_FOUND");
    });
  });

  it("refuses a title id that is taken", async () => {
    await post("/v1/admin/titles", { id: "taken", name: "Taken" });
    await expectError(await bumps(0, () => post("/v1/admin/titles", { id: "taken", name: "Again" })), 409, "CONFLICT");
  });
});

describe("the admin token", () => {
  it.each([
    ["PATCH", "/v1/admin/titles/night-shift", { name: "Hacked" }],
    ["DELETE", "/v1/admin/titles/night-shift", undefined],
    ["POST", "/v1/admin/titles/long-run/seasons", { number: 7 }],
    ["PATCH", "/v1/admin/titles/long-run/seasons/3/episodes/1", { name: "x" }],
    ["PUT", "/v1/admin/genres/hacked", { name: "Hacked" }],
    ["DELETE", "/v1/admin/genres/drama", undefined],
    ["POST", "/v1/admin/catalog/import", undefined],
    ["GET", "/v1/admin/titles/night-shift", undefined],
  ])("is required: %s %s without it gets 401 and changes nothing", async (method, path, body) => {
    await bumps(0, async () => {
      for (const headers of [{}, { Authorization: "Bearer not-the-admin-token-at-all-0000" }] as Record<string, string>[]) {
        const res = await api(path, { method, headers: { "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined }, headers);
        await expectError(res, 401, "UNAUTHORIZED");
      }
    });
  });
});
