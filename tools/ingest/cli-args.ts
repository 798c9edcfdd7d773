// The ingest command's arguments: parsed, checked, and turned into one plain object, with
// usage errors as one clear line each.
import { parseArgs } from "node:util";
import { X264_PRESETS } from "./package-asset.ts";

export const usage = `usage: npm run ingest -- <video> [--title <id> | --new-title "Name" [--series]]
                      [--episode S01E02 [--episode-name "Name"]] [--subs en=path.srt ...]
                      [--preset medium] [--api <url>] [--admin-token <token>] [--json]`;

export class UsageError extends Error {}

export type IngestArgs = {
  video: string;
  title: { id: string } | { name: string; kind: "movie" | "series" } | null;
  episode: { season: number; number: number; name?: string } | null;
  subtitles: { lang: string; name: string; path: string }[];
  /** x264 preset: faster presets encode quicker at a larger size for the same quality. */
  preset: string | undefined;
  api: string;
  adminToken: string | undefined;
  json: boolean;
};

function languageName(lang: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(lang) ?? lang;
  } catch {
    throw new UsageError(`--subs: "${lang}" is not a language tag (e.g. en, pt-BR)`);
  }
}

export function parseIngestArgs(argv: string[]): IngestArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        title: { type: "string" },
        "new-title": { type: "string" },
        series: { type: "boolean", default: false },
        episode: { type: "string" },
        "episode-name": { type: "string" },
        subs: { type: "string", multiple: true, default: [] },
        preset: { type: "string" },
        api: { type: "string", default: process.env.MARQUEE_API ?? "http://localhost:8787" },
        "admin-token": { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError("give exactly one video file");
  if (values.title && values["new-title"]) throw new UsageError("--title and --new-title exclude each other");

  let episode: IngestArgs["episode"] = null;
  if (values.episode) {
    const m = /^S(\d{1,3})E(\d{1,4})$/i.exec(values.episode);
    if (!m) throw new UsageError(`--episode must look like S01E02, not "${values.episode}"`);
    if (!values.title && !values["new-title"]) throw new UsageError("--episode needs the series: --title <id> or --new-title \"Name\" --series");
    episode = { season: Number(m[1]), number: Number(m[2]), ...(values["episode-name"] ? { name: values["episode-name"] } : {}) };
  }
  const title: IngestArgs["title"] = values.title
    ? { id: values.title }
    : values["new-title"]
      ? { name: values["new-title"], kind: values.series || episode ? "series" : "movie" }
      : null;

  if (values.preset !== undefined && !X264_PRESETS.includes(values.preset)) {
    throw new UsageError(`--preset must be one of ${X264_PRESETS.join(", ")}`);
  }

  const seen = new Set<string>();
  const subtitles = (values.subs as string[]).map((spec) => {
    const eq = spec.indexOf("=");
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--subs must look like en=path.srt, not "${spec}"`);
    const lang = spec.slice(0, eq);
    if (seen.has(lang)) throw new UsageError(`--subs: ${lang} is given twice`);
    seen.add(lang);
    return { lang, name: languageName(lang), path: spec.slice(eq + 1) };
  });

  return {
    video: positionals[0]!,
    title,
    episode,
    subtitles,
    preset: values.preset,
    api: values.api!,
    adminToken: values["admin-token"] ?? process.env.MARQUEE_ADMIN_TOKEN,
    json: values.json!,
  };
}
