// The ingest command's arguments: parsed, checked, and turned into one plain object, with
// usage errors as one clear line each.
import { parseArgs } from "node:util";
import { X264_PRESETS } from "./package-asset.ts";

export const usage = `usage: npm run ingest -- <video> [--title <id> | --new-title "Name" [--series]]
                      [--episode S01E02 [--episode-name "Name"]] [--subs en=path.srt ...]
                      [--preset medium] [--skip-segments] [--api <url>] [--admin-token <token>] [--json]
       npm run ingest -- --detect-segments <season> --title <id> [--api <url>] [--admin-token <token>] [--json]`;

export class UsageError extends Error {}

export type IngestArgs = {
  /** Re-run intro/recap/credits detection on this season of --title from the stored analyses; no video is ingested. */
  detectSegments: number | null;
  /** Find no intro, recap or credits for this video (--skip-segments). */
  skipSegments: boolean;
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
        "detect-segments": { type: "string" },
        "skip-segments": { type: "boolean", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values["detect-segments"] !== undefined) {
    const season = values["detect-segments"];
    if (!/^[1-9]\d{0,2}$/.test(season)) throw new UsageError(`--detect-segments takes a season number (1-999), not "${season}"`);
    if (positionals.length > 0) throw new UsageError("--detect-segments works on what is already ingested: give no video file");
    if (!values.title) throw new UsageError("--detect-segments needs the series: --title <id>");
    return {
      detectSegments: Number(season),
      skipSegments: false,
      video: "",
      title: { id: values.title },
      episode: null,
      subtitles: [],
      preset: undefined,
      api: values.api!,
      adminToken: values["admin-token"] ?? process.env.MARQUEE_ADMIN_TOKEN,
      json: values.json!,
    };
  }
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
    detectSegments: null,
    skipSegments: values["skip-segments"]!,
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
