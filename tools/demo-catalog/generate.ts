// `node tools/demo-catalog/generate.ts`: writes demo/catalog.json and one SVG poster per
// title into web/public/artwork/, from the hand-written titles in ./titles.ts. Everything
// else (ids, people, credits, seasons, episodes, popularity, availability, posters) is
// derived with a seeded PRNG, so running it again writes byte-identical files.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { projectRoot } from "../project.ts";
import { demoCatalogSchema, type DemoCatalog } from "../seed/demo-catalog.ts";
import { posterSvg } from "./poster.ts";
import { genreSeeds, titleSeeds } from "./titles.ts";
import { seededRandom } from "../../lib/random.ts";

const DEMO_ASSET = "demo-aurora";


export function slug(name: string): string {
  return name
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/&/g, "and")
    .replace(/['’]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

const firstNames = [
  "Amélie", "Zoë", "Søren", "Björn", "Inès", "José", "François", "Noémie", "Łucja", "Mateo",
  "Hana", "Ezra", "Priya", "Kofi", "Niamh", "Tomás", "Greta", "Dmitri", "Aiko", "Rafael",
  "Maren", "Olu", "Chiara", "Henrik", "Beatriz", "Idris", "Yara", "Callum", "Signe", "Lior",
  "Ximena", "Théo", "Anouk", "Ravi", "Ingrid", "Malik", "Renée", "Jonas", "Paloma", "Emeka",
];
const lastNames = [
  "Delacroix", "Lindqvist", "Okafor", "Marchetti", "Haddad", "Nakamura", "Brennan", "Østergaard", "Castellanos", "Vance",
  "Moreau", "Kowalczyk", "Adeyemi", "Sørensen", "Ibáñez", "Fairweather", "Rao", "Lindgren", "Achterberg", "Quinlan",
  "Mbeki", "Huang", "Rossi", "Novák", "Albescu", "Whitlock", "Garnier", "Takeda", "Valdés", "Holloway",
];
const characterFirst = [
  "Ada", "Bram", "Clem", "Dora", "Elio", "Fen", "Gus", "Hattie", "Ivo", "June", "Kit", "Lena", "Mo", "Nell",
  "Otto", "Pia", "Rex", "Sol", "Tess", "Ugo", "Vera", "Wren", "Yusuf", "Zelda", "Marguerite", "Bastien", "Dolores", "Ruth",
];
const characterLast = [
  "Hale", "Marsh", "Crane", "Pike", "Rooke", "Stroud", "Ashby", "Lark", "Frost", "Mercer", "Tamsin", "Vale", "Bell", "Doyle",
];
const episodeNames = [
  "Pilot", "Low Tide", "The Long Way Round", "Crossings", "Open Water", "A Room of Clocks", "Homecoming", "Small Mercies",
  "First Frost", "The Visitor", "Loose Ends", "Night Shift", "Borrowed Time", "Paper Trail", "Still Life", "Undertow",
  "The Other Side", "Fair Weather", "Old Friends", "The Inventory", "Signals", "Last Orders", "Northbound", "Aftershock",
  "The Lantern", "Wishbone", "Second Guess", "Safe Harbour", "Blind Corner", "Sunday Roast", "The Quiet Part", "Overtime",
  "Dead Air", "Turnstile", "High Water", "Carry On", "The Letter", "Holding Pattern", "Brass Tacks", "Red Sky",
];
const episodeSynopses = [
  "{a} makes a promise that {b} knows cannot be kept.",
  "A stranger arrives with news that turns {a}'s week upside down.",
  "{a} and {b} are forced to work together, and neither enjoys it.",
  "An old mistake catches up with {a} at the worst possible moment.",
  "{b} has a secret; {a} has a plan. Only one of them survives the day intact.",
  "A storm cuts everyone off, and {a} finally says what everyone was thinking.",
  "{a} goes looking for answers and finds {b} already there.",
  "A celebration goes sideways when {b} invites the wrong guest.",
  "{a} is offered a way out. {b} begs them to take it.",
  "Everything {a} thought they knew about {b} is tested.",
  "A small favour for {b} becomes the biggest problem {a} has faced.",
  "{a} keeps a vigil through the night while {b} keeps a secret.",
];
const kidsEpisodeSynopses = [
  "{a} learns that sharing makes the best games even better.",
  "{a} and {b} build something wonderful out of things nobody wanted.",
  "When {b} gets lost, {a} follows the clues all the way home.",
  "{a} is scared of the dark, until {b} shows how many stars there are.",
  "A rainy day turns into the biggest adventure {a} has ever had.",
  "{b} wants to win; {a} wants everyone to have fun. Can they do both?",
];

/** Titles whose availability window shows the rule: one not yet open, one closed, two open. */
const availability: Record<string, { availableFrom?: string; availableUntil?: string }> = {
  undertone: { availableFrom: "2030-01-01T00:00:00.000Z" },
  "midnight-at-the-paramount": { availableUntil: "2025-01-01T00:00:00.000Z" },
  "creme-brulee-for-two": { availableFrom: "2024-02-14T00:00:00.000Z", availableUntil: "2030-02-14T00:00:00.000Z" },
  "tinsel-town-tango": { availableUntil: "2029-12-31T00:00:00.000Z" },
};

export function generateCatalog(): DemoCatalog {
  const rand = seededRandom(20261126);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  /** Skewed towards the front of the list, so a few people recur often. */
  const pickSkewed = <T>(list: readonly T[]): T => list[Math.floor(rand() ** 1.5 * list.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

  // People: actors and a smaller crew pool, all invented.
  const names = new Set<string>();
  while (names.size < 96) names.add(`${pick(firstNames)} ${pick(lastNames)}`);
  const people = [...names].map((name) => ({ id: slug(name), name }));
  if (new Set(people.map((p) => p.id)).size !== people.length) throw new Error("two people share an id");
  const actors = people.slice(0, 72);
  const crew = people.slice(72);

  const titles: DemoCatalog["titles"] = titleSeeds.map((seed) => {
    const id = slug(seed.name);
    const kids = seed.genres.includes("kids");
    const credits: NonNullable<DemoCatalog["titles"][number]["credits"]> = [];
    const has = (personId: string, role: string) => credits.some((c) => c.personId === personId && c.role === role);
    const add = (personId: string, role: "cast" | "director" | "writer" | "creator", character?: string) => {
      if (!has(personId, role)) credits.push(character ? { personId, role, character } : { personId, role });
    };
    const lead = pick(crew);
    add(lead.id, seed.kind === "movie" ? "director" : "creator");
    add(rand() < 0.4 ? lead.id : pick(crew).id, "writer");
    const characters: string[] = [];
    const castSize = between(3, 5);
    while (characters.length < castSize) {
      const actor = pickSkewed(actors);
      if (has(actor.id, "cast")) continue;
      const character = `${pick(characterFirst)} ${pick(characterLast)}`;
      characters.push(character.split(" ")[0]!);
      add(actor.id, "cast", character);
    }
    const base = {
      id,
      kind: seed.kind,
      name: seed.name,
      synopsis: seed.synopsis,
      releaseYear: seed.year,
      maturityRating: seed.rating,
      // Newer titles lean more popular; a long tail of old favourites.
      popularity: Math.round((rand() ** 1.6 * 70 + Math.max(0, seed.year - 1990) * 0.8) * 10) / 10,
      posterPath: `/artwork/${id}.svg`,
      ...availability[id],
      genres: seed.genres,
      credits,
    };
    if (seed.kind === "movie") return { ...base, assetId: DEMO_ASSET };
    const usedNames = new Set<string>();
    const seasons = Array.from({ length: seed.seasons ?? 1 }, (_, s) => ({
      number: s + 1,
      name: `Season ${s + 1}`,
      episodes: Array.from({ length: between(2, 6) }, (_, e) => {
        let name = s === 0 && e === 0 ? "Pilot" : pick(episodeNames);
        while (usedNames.has(name)) name = pick(episodeNames);
        usedNames.add(name);
        const a = characters[0]!;
        const b = characters[1 + Math.floor(rand() * (characters.length - 1))]!;
        const synopsis = pick(kids ? kidsEpisodeSynopses : episodeSynopses).replaceAll("{a}", a).replaceAll("{b}", b);
        return { number: e + 1, name, synopsis, assetId: DEMO_ASSET };
      }),
    }));
    return { ...base, assetId: null, seasons };
  });

  const genreIds = new Set(genreSeeds.map((g) => g.id));
  for (const t of titles) for (const g of t.genres) if (!genreIds.has(g)) throw new Error(`${t.id}: unknown genre ${g}`);
  // Only the people credited somewhere.
  const credited = new Set(titles.flatMap((t) => (t.credits ?? []).map((c) => c.personId)));
  return demoCatalogSchema.parse({
    $comment:
      "Generated by `node tools/demo-catalog/generate.ts` from tools/demo-catalog/titles.ts: edit those, not this file. Every movie and episode plays the one demo asset in demo/media.",
    genres: genreSeeds,
    people: people.filter((p) => credited.has(p.id)),
    titles,
  });
}

if (import.meta.main) {
  const catalog = generateCatalog();
  const artwork = path.join(projectRoot, "web/public/artwork");
  await mkdir(artwork, { recursive: true });
  const wanted = new Set(catalog.titles.map((t) => `${t.id}.svg`));
  for (const file of await readdir(artwork)) if (file.endsWith(".svg") && !wanted.has(file)) await rm(path.join(artwork, file));
  let posterBytes = 0;
  for (const t of catalog.titles) {
    const svg = posterSvg(t.id, t.name, t.releaseYear);
    posterBytes += Buffer.byteLength(svg);
    await writeFile(path.join(artwork, `${t.id}.svg`), svg);
  }
  await writeFile(path.join(projectRoot, "demo/catalog.json"), JSON.stringify(catalog, null, 2) + "\n");
  const series = catalog.titles.filter((t) => t.kind === "series");
  const episodes = series.flatMap((t) => (t.seasons ?? []).flatMap((s) => s.episodes)).length;
  console.log(
    `demo catalog: ${catalog.titles.length} titles (${series.length} series, ${episodes} episodes), ` +
      `${catalog.people?.length ?? 0} people, ${catalog.genres.length} genres; posters ${posterBytes} bytes`,
  );
}
