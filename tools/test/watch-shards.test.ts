// `npm run shards`: the watch-shard bindings of every environment of wrangler.toml come
// from its EVENT_SHARDS, in one generated block each — the committed file is what the
// generator writes, wrangler resolves each environment to the contract's names, a change of
// N rewrites only the blocks, provisioned database ids survive, and N does not change under
// provisioned databases without --force.
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { apiConfig } from "../project.ts";
import { writeDatabaseId } from "../provision.ts";
import { BEGIN, configuredShards, END, generateShards, writeShards } from "../watch-shards.ts";
import { readEnvironment, type EnvironmentConfig } from "../wrangler.ts";

const dir = await mkdtemp(path.join(tmpdir(), "marquee-shards-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const committed = await readFile(apiConfig, "utf8");

let n = 0;
async function copy(text = committed) {
  const file = path.join(dir, `${++n}.toml`);
  await writeFile(file, text);
  return file;
}

/** The file without its generated blocks: what the generator must never touch. */
const outsideBlocks = (text: string) => text.replace(/# >>> watch shards[\s\S]*?# <<< watch shards/g, "<block>");
const setShards = (text: string, env: "top" | "staging" | "production", value: string) => {
  const marker = { top: "[vars]", staging: "[env.staging.vars]", production: "[env.production.vars]" }[env];
  const at = text.indexOf(marker);
  const i = text.indexOf("EVENT_SHARDS = ", at);
  return text.slice(0, i) + text.slice(i).replace(/^EVENT_SHARDS = "[^"]*"/, `EVENT_SHARDS = "${value}"`);
};

describe("the committed wrangler.toml", () => {
  it("is exactly what `npm run shards` writes (npm run typecheck checks this too)", async () => {
    const result = generateShards(committed);
    expect(result.text).toBe(committed);
    expect(result.environments.map((e) => [e.env, e.shards, e.changed])).toEqual([
      ["", 2, false],
      ["staging", 2, false],
      ["production", 16, false],
    ]);
    await expect(writeShards(apiConfig, { check: true, log: () => {} })).resolves.toBeDefined();
  });

  const expected = {
    local: { shards: 2, db: "marquee-watch", queue: "watch-events", dlq: "watch-events-dlq" },
    staging: { shards: 2, db: "marquee-staging-watch", queue: "watch-events-staging", dlq: "watch-events-staging-dlq" },
    production: { shards: 16, db: "marquee-production-watch", queue: "watch-events-production", dlq: "watch-events-production-dlq" },
  } as const;

  for (const [env, want] of Object.entries(expected)) {
    it(`${env}: wrangler resolves N shard databases, producers and consumers, and no single WATCH_EVENTS queue`, async () => {
      const c = await readEnvironment(apiConfig, env === "local" ? undefined : (env as "staging" | "production"));
      const { shards, problems } = configuredShards(c, env);
      expect(problems).toEqual([]);
      expect(shards.map((s) => [s.binding, s.database, s.producer, s.queue])).toEqual(
        Array.from({ length: want.shards }, (_, k) => [`WATCH_${k}`, `${want.db}-${k}`, `WATCH_EVENTS_${k}`, `${want.queue}-${k}`]),
      );
      expect(c.producers.WATCH_EVENTS).toBeUndefined();
      expect(c.producers.WATCH_EVENTS_DLQ).toBe(want.dlq);
      expect(c.queues).not.toContain(want.queue);
      expect(c.d1.find((d) => d.binding === "DB")).toBeDefined();

      const { unstable_readConfig } = await import("wrangler");
      type Raw = { d1_databases: { binding: string; migrations_dir?: string }[]; queues: { consumers: Record<string, unknown>[] } };
      const raw = unstable_readConfig({ config: apiConfig, env: env === "local" ? undefined : env }, { hideWarnings: true }) as unknown as Raw;
      for (const d of raw.d1_databases.filter((d) => d.binding.startsWith("WATCH_"))) expect(d.migrations_dir).toBe("d1/watch-migrations");
      const consumers = raw.queues.consumers.filter((q) => /-\d+$/.test(String(q.queue)));
      expect(consumers).toHaveLength(want.shards);
      for (const q of consumers) {
        expect({ ...q, queue: undefined }).toEqual({
          queue: undefined,
          max_batch_size: 100,
          max_batch_timeout: 1,
          max_retries: 5,
          retry_delay: 10,
          max_concurrency: 10,
          dead_letter_queue: want.dlq,
        });
      }
    });
  }
});

describe("generateShards", () => {
  it("rewrites only the blocks of the environments whose EVENT_SHARDS changed", async () => {
    const text = setShards(committed, "staging", "3");
    const result = generateShards(text);
    expect(result.environments.map((e) => [e.env, e.shards, e.changed])).toEqual([
      ["", 2, false],
      ["staging", 3, true],
      ["production", 16, false],
    ]);
    expect(outsideBlocks(result.text)).toBe(outsideBlocks(text));
    expect(result.text).toContain('database_name = "marquee-staging-watch-2"');
    expect(result.text).toContain('queue = "watch-events-staging-2"');
    const file = await copy(result.text);
    const { shards, problems } = configuredShards(await readEnvironment(file, "staging"), "staging");
    expect(problems).toEqual([]);
    expect(shards.map((s) => s.queue)).toEqual(["watch-events-staging-0", "watch-events-staging-1", "watch-events-staging-2"]);
    // Generating again changes nothing.
    expect(generateShards(result.text).text).toBe(result.text);
  });

  it("keeps the database ids provision wrote, and refuses to change N under them without --force", async () => {
    const file = await copy();
    await writeDatabaseId(file, "staging", "WATCH_0", "aaaaaaaa-0000-4000-8000-000000000000");
    await writeDatabaseId(file, "staging", "WATCH_1", "bbbbbbbb-0000-4000-8000-000000000000");
    const provisioned = await readFile(file, "utf8");
    // What provision writes is what the generator writes: the check still passes.
    expect(generateShards(provisioned).text).toBe(provisioned);
    await expect(writeShards(file, { check: true })).resolves.toBeDefined();

    const grown = setShards(provisioned, "staging", "3");
    expect(() => generateShards(grown)).toThrow(/\[env\.staging\] EVENT_SHARDS is now "3" but its 2 shard databases are provisioned[\s\S]*Resharding is not supported yet/);
    const forced = generateShards(grown, { force: true }).text;
    const forcedFile = await copy(forced);
    expect((await readEnvironment(forcedFile, "staging")).d1.map((d) => [d.binding, d.id])).toEqual([
      ["DB", undefined],
      ["WATCH_0", "aaaaaaaa-0000-4000-8000-000000000000"],
      ["WATCH_1", "bbbbbbbb-0000-4000-8000-000000000000"],
      ["WATCH_2", undefined],
    ]);
    // Another environment's N may change: its shards have no ids.
    expect(generateShards(setShards(provisioned, "production", "8")).environments[2]!.shards).toBe(8);
  });

  it("refuses an EVENT_SHARDS that is not 1-64, naming the environment", () => {
    expect(() => generateShards(setShards(committed, "production", "0"))).toThrow(/\[env\.production\] EVENT_SHARDS must be a whole number from 1 to 64 written plainly \(e\.g\. "2"\), not "0"/);
    expect(() => generateShards(setShards(committed, "top", "02"))).toThrow(/the top level EVENT_SHARDS must be/);
    expect(() => generateShards(committed.replace(/^EVENT_SHARDS = "2"\n/m, ""))).toThrow(/the top level EVENT_SHARDS is not set/);
  });

  it("refuses a file whose blocks it cannot place safely", () => {
    const stagingBlock = committed.indexOf(BEGIN, committed.indexOf("[env.staging]"));
    const withoutStagingBlock = committed.slice(0, stagingBlock) + committed.slice(committed.indexOf(END, stagingBlock) + END.length + 1);
    expect(() => generateShards(withoutStagingBlock)).toThrow(/\[env\.staging\] sets EVENT_SHARDS but has no watch-shards block/);
    const unterminated = committed.replace(`${END}\n\n# Quality of experience`, "\n# Quality of experience");
    expect(() => generateShards(unterminated)).toThrow(/must end before \[env\.staging\] begins|has no "# <<< watch shards" line/);
    const keyAfter = committed.replace(`${END}\n`, `${END}\nstray = "x"\n`);
    expect(() => generateShards(keyAfter)).toThrow(/a key right after "# <<< watch shards"/);
    const twoBlocks = committed.replace(`${END}\n`, `${END}\n${BEGIN}\n${END}\n`);
    expect(() => generateShards(twoBlocks)).toThrow(/the top level has 2 watch-shards blocks/);
  });
});

describe("writeShards", () => {
  it("--check fails on a stale file and writes nothing; without it, rewrites", async () => {
    const stale = setShards(committed, "top", "4");
    const file = await copy(stale);
    await expect(writeShards(file, { check: true })).rejects.toThrow(/the top level \(EVENT_SHARDS = "4"\)[\s\S]*run `npm run shards`, then `npm run types`/);
    expect(await readFile(file, "utf8")).toBe(stale);
    const lines: string[] = [];
    await writeShards(file, { log: (l) => lines.push(l) });
    expect(lines[0]).toBe("the top level: 4 watch shards (rewritten)");
    expect(await readFile(file, "utf8")).toContain('binding = "WATCH_EVENTS_3"');
    await expect(writeShards(file, { check: true })).resolves.toBeDefined();
  });

  it("the real file's copy stays byte-identical when nothing changed", async () => {
    const file = path.join(dir, "same.toml");
    await copyFile(apiConfig, file);
    await writeShards(file, { log: () => {} });
    expect(await readFile(file, "utf8")).toBe(committed);
  });
});

describe("configuredShards", () => {
  const base: Pick<EnvironmentConfig, "vars" | "d1" | "producers" | "consumers"> = {
    vars: { EVENT_SHARDS: "2" },
    d1: [
      { binding: "DB", name: "m", id: "x" },
      { binding: "WATCH_0", name: "m-watch-0", id: "a" },
      { binding: "WATCH_1", name: "m-watch-1", id: undefined },
    ],
    producers: { WATCH_EVENTS_0: "q-0", WATCH_EVENTS_1: "q-1" },
    consumers: [
      { queue: "q-0", deadLetterQueue: "q-dlq" },
      { queue: "q-1", deadLetterQueue: "q-dlq" },
    ],
  };

  it("lists the shards, ids included", () => {
    expect(configuredShards(base, "x")).toEqual({
      shards: [
        { k: 0, binding: "WATCH_0", database: "m-watch-0", databaseId: "a", producer: "WATCH_EVENTS_0", queue: "q-0" },
        { k: 1, binding: "WATCH_1", database: "m-watch-1", databaseId: undefined, producer: "WATCH_EVENTS_1", queue: "q-1" },
      ],
      problems: [],
    });
  });

  it("names what is missing, misnamed or left over", () => {
    const problems = (over: Partial<typeof base>) => configuredShards({ ...base, ...over }, "[env.x]").problems;
    expect(problems({ vars: { EVENT_SHARDS: "3" } })).toEqual([
      '[env.x] has EVENT_SHARDS = "3" but no D1 database bound as WATCH_2 (run `npm run shards`)',
      '[env.x] has EVENT_SHARDS = "3" but no queue producer WATCH_EVENTS_2 (run `npm run shards`)',
    ]);
    expect(problems({ vars: { EVENT_SHARDS: "1" } })).toEqual(['[env.x] binds WATCH_1, WATCH_EVENTS_1 beyond EVENT_SHARDS = "1" (run `npm run shards`)']);
    expect(problems({ producers: { WATCH_EVENTS_0: "q-0", WATCH_EVENTS_1: "q-one" } })[0]).toMatch(/sends to "q-one", which must end in -1/);
    expect(problems({ consumers: [{ queue: "q-0", deadLetterQueue: undefined }] })).toHaveLength(2);
    expect(problems({ vars: {} })).toEqual(['[env.x]: EVENT_SHARDS is not set: it must be a whole number from 1 to 64 (e.g. "2")']);
  });
});
