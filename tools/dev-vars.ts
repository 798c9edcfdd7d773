// Creates the local secret files (.dev.vars for the api, workers/media/.dev.vars for media)
// from their committed examples with fresh random values, when they are missing.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { projectRoot } from "./project.ts";

const apiVars = path.join(projectRoot, ".dev.vars");
const mediaVars = path.join(projectRoot, "workers/media/.dev.vars");

const random = (bytes: number) => randomBytes(bytes).toString("base64url");

export function parseVars(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) vars.set(match[1]!, match[2]!);
  }
  return vars;
}

/** Copies an example file, replacing each listed variable's value and keeping comments. */
async function writeFromExample(example: string, target: string, values: Record<string, string>): Promise<void> {
  const text = await readFile(example, "utf8");
  const out = text.replace(/^([A-Z0-9_]+)=.*$/gm, (line, name: string) => (name in values ? `${name}=${values[name]}` : line));
  await writeFile(target, out, { mode: 0o600 });
}

/** Variables the example gained since the file was made are appended, with the example's values. */
export async function addMissing(example: string, target: string): Promise<void> {
  const have = parseVars(await readFile(target, "utf8"));
  const missing = [...parseVars(await readFile(example, "utf8"))].filter(([name]) => !have.has(name));
  if (missing.length === 0) return;
  const text = await readFile(target, "utf8");
  await writeFile(target, `${text.replace(/\n?$/, "\n")}${missing.map(([k, v]) => `${k}=${v}`).join("\n")}\n`, { mode: 0o600 });
  console.log(`added ${missing.map(([k]) => k).join(", ")} to ${path.relative(projectRoot, target)} from its example`);
}

export async function ensureDevVars(): Promise<void> {
  if (!existsSync(apiVars)) {
    await writeFromExample(path.join(projectRoot, ".dev.vars.example"), apiVars, {
      ADMIN_TOKEN: random(32),
      PLAYBACK_TOKEN_KEYS: `k1:${random(32)}`,
    });
    console.log("created .dev.vars with fresh local secrets");
  } else {
    await addMissing(path.join(projectRoot, ".dev.vars.example"), apiVars);
  }
  if (!existsSync(mediaVars)) {
    // The media Worker verifies what the api signs: it must hold the same keys.
    const keys = parseVars(await readFile(apiVars, "utf8")).get("PLAYBACK_TOKEN_KEYS");
    if (!keys) throw new Error(".dev.vars has no PLAYBACK_TOKEN_KEYS; compare it with .dev.vars.example");
    await writeFromExample(path.join(projectRoot, "workers/media/.dev.vars.example"), mediaVars, { PLAYBACK_TOKEN_KEYS: keys });
    console.log("created workers/media/.dev.vars with the api's playback keys");
  }
}

/** One variable of the api's local .dev.vars (e.g. to mint a playback token in a test). */
export async function readDevVar(name: string): Promise<string> {
  const value = parseVars(await readFile(apiVars, "utf8")).get(name);
  if (value === undefined) throw new Error(`.dev.vars has no ${name}`);
  return value;
}

if (import.meta.main) await ensureDevVars();
