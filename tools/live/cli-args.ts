// The live command's arguments: parsed, checked, and turned into one plain object, with
// usage errors as one clear line each.
import path from "node:path";
import { parseArgs } from "node:util";

export const usage = `usage: npm run live -- <video file> | --test-pattern [--name "Name"] [--title <titleId>]
                    [--duration <seconds>] [--api <url>] [--admin-token <token>] [--keep-open] [--print]`;

export class UsageError extends Error {}

export type LiveArgs = {
  input: { kind: "test-pattern" } | { kind: "file"; path: string };
  name: string;
  titleId: string | undefined;
  durationSec: number | undefined;
  api: string;
  adminToken: string | undefined;
  keepOpen: boolean;
  print: boolean;
};

export function parseLiveArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LiveArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        "test-pattern": { type: "boolean", default: false },
        name: { type: "string" },
        title: { type: "string" },
        duration: { type: "string" },
        api: { type: "string" },
        "admin-token": { type: "string" },
        "keep-open": { type: "boolean", default: false },
        print: { type: "boolean", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError("give one video file, not several");
  if (values["test-pattern"] && positionals.length === 1) throw new UsageError("give a video file or --test-pattern, not both");
  if (!values["test-pattern"] && positionals.length === 0) throw new UsageError("give a video file or --test-pattern");

  let durationSec: number | undefined;
  if (values.duration !== undefined) {
    durationSec = Number(values.duration);
    if (!(durationSec > 0) || !Number.isFinite(durationSec)) throw new UsageError(`--duration must be a positive number of seconds, not "${values.duration}"`);
  }
  if (values.name !== undefined && values.name.trim() === "") throw new UsageError("--name must not be empty");
  if (values.title !== undefined && values.title.trim() === "") throw new UsageError("--title must not be empty");

  const api = values.api ?? env.MARQUEE_API ?? "http://localhost:8787";
  if (!URL.canParse(api) || !/^https?:$/.test(new URL(api).protocol)) throw new UsageError(`--api must be an http(s) URL, not "${api}"`);

  const file = positionals[0];
  return {
    input: file === undefined ? { kind: "test-pattern" } : { kind: "file", path: file },
    // An event needs a name; the file's own is the likeliest one wanted.
    name: values.name ?? (file === undefined ? "Test pattern" : path.parse(file).name),
    titleId: values.title,
    durationSec,
    api,
    adminToken: values["admin-token"] ?? env.MARQUEE_ADMIN_TOKEN,
    keepOpen: values["keep-open"]!,
    print: values.print!,
  };
}
