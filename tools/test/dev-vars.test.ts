// Local secret files: variables added to an example later reach existing files, and
// nothing a developer set is changed.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { addMissing, parseVars } from "../dev-vars.ts";

const dir = await mkdtemp(path.join(tmpdir(), "marquee-dev-vars-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("addMissing", () => {
  it("appends only the variables the file lacks, keeping the developer's values", async () => {
    const example = path.join(dir, "example");
    const target = path.join(dir, "target");
    await writeFile(example, "# comment\nADMIN_TOKEN=change-me\nBILLING_PROVIDER=dev\nNEW_ONE=x\n");
    await writeFile(target, "ADMIN_TOKEN=mine-secret");
    await addMissing(example, target);
    const vars = parseVars(await readFile(target, "utf8"));
    expect([...vars]).toEqual([
      ["ADMIN_TOKEN", "mine-secret"],
      ["BILLING_PROVIDER", "dev"],
      ["NEW_ONE", "x"],
    ]);
    const before = await readFile(target, "utf8");
    await addMissing(example, target);
    expect(await readFile(target, "utf8")).toBe(before);
  });
});
