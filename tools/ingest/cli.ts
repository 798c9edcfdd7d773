// `npm run ingest -- <video> …`: packages one video into a per-title CMAF ladder, uploads
// it through the admin API (resuming what is already there), publishes it, and links it
// to its title or episode. One clear line and a non-zero exit for bad input; nothing is
// uploaded before the packaging has succeeded, and nothing is visible before publishing.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { renditionIndexSchema, type RenditionIndex } from "../../lib/media-index.ts";
import { readDevVar } from "../dev-vars.ts";
import { projectRoot } from "../project.ts";
import { AdminApi, AdminApiError, type ReplicaStatus } from "./admin-api.ts";
import { assetIdFor } from "./asset-id.ts";
import { parseIngestArgs, usage, UsageError, type IngestArgs } from "./cli-args.ts";
import { IngestInputError } from "./errors.ts";
import { packageAsset, type PackageReport } from "./package-asset.ts";
import { progressBar } from "./progress.ts";
import { uploadAsset, type UploadReport } from "./upload.ts";
import { type DetectionReport, describeSegments, detectFilmSegments, detectSeasonSegments } from "./detect-segments.ts";
import { analyzeEpisode } from "./segments/analyze.ts";

/** Bump when the packaging changes its output, so the same source gets a new asset id. */
const PIPELINE_VERSION = 1;

const isLocal = (api: string) => /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/.test(api);

async function adminToken(args: IngestArgs): Promise<string> {
  if (args.adminToken) return args.adminToken;
  // Against `npm run dev`, the local secret is the obvious one; never guess for a remote API.
  if (isLocal(args.api) && existsSync(path.join(projectRoot, ".dev.vars"))) return readDevVar("ADMIN_TOKEN");
  throw new UsageError("give --admin-token (or set MARQUEE_ADMIN_TOKEN) for a remote API");
}

/** A finished packaging of the same asset id (an earlier, interrupted run), reused as is. */
async function packagedBefore(dir: string, assetId: string): Promise<RenditionIndex | null> {
  try {
    const index = renditionIndexSchema.parse(JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")));
    return index.assetId === assetId ? index : null;
  } catch {
    return null;
  }
}

type Outcome = {
  assetId: string;
  titleId?: string;
  episodeId?: string;
  packaging: PackageReport | "reused";
  upload: UploadReport;
  /** Each replica's copy (docs/media-origin.md); empty with no replica configured. */
  replication: ReplicaStatus[];
  ladder: { id: string; width: number; height: number; peakKbps: number; averageKbps: number }[];
  /** Intro, recap and credits found (for the whole season of an episode); null when not looked for. */
  segments: (DetectionReport & { analysisSec: number }) | { error: string } | null;
};

/** The asset this run is about, once known: failures report it so callers can check it. */
let currentAssetId: string | undefined;

async function ingest(args: IngestArgs): Promise<Outcome> {
  const api = new AdminApi(args.api, await adminToken(args));
  const quiet = args.json;
  if (!existsSync(args.video)) throw new IngestInputError(`${args.video} does not exist`, "INPUT_NOT_FOUND");
  // Subtitle contents are part of what makes this asset: another subtitle file, another asset.
  const subtitles = await Promise.all(
    args.subtitles.map(async (s) => {
      const bytes = await readFile(s.path).catch(() => {
        throw new IngestInputError(`subtitle file ${s.path} cannot be read`, "SUBTITLES_UNREADABLE");
      });
      return { lang: s.lang, sha256: createHash("sha256").update(bytes).digest("hex") };
    }),
  );
  const assetId = await assetIdFor(args.video, { pipeline: PIPELINE_VERSION, subtitles, preset: args.preset ?? "medium" });
  currentAssetId = assetId;

  // Fail on a wrong URL or token now, not after a long encode.
  const existing = await api.assetStatus(assetId).catch((err: unknown) => {
    if (err instanceof AdminApiError && err.status === 404) return null;
    throw err;
  });

  const workDir = path.join(projectRoot, ".wrangler/ingest", assetId);
  let index = await packagedBefore(workDir, assetId);
  let packaging: Outcome["packaging"] = "reused";
  if (!index && existing?.status !== "published") {
    const bars = new Map<string, ReturnType<typeof progressBar>>();
    const result = await packageAsset({
      input: { kind: "file", path: args.video },
      assetId,
      outDir: workDir,
      subtitles: args.subtitles,
      ...(args.preset ? { preset: args.preset } : {}),
      onProgress: (p) => {
        if (p.phase === "probe") return; // a moment's work: a bar would only add noise
        let bar = bars.get(p.phase);
        if (!bar) bars.set(p.phase, (bar = progressBar(p.phase, { quiet })));
        bar.update(p.fraction);
      },
    });
    for (const [phase, bar] of bars) bar.done(phase === "encode" ? `done: ${result.report.realtimeFactor.toFixed(1)}x real time` : "done");
    index = result.index;
    packaging = result.report;
  }

  let upload: UploadReport = { uploadedFiles: 0, skippedFiles: existing?.files.length ?? 0, uploadedBytes: 0, seconds: 0 };
  if (existing?.status !== "published") {
    const bar = progressBar("upload", { quiet });
    upload = await uploadAsset(api, workDir, index!, (p) =>
      bar.update(p.bytesTotal === 0 ? 1 : p.bytesDone / p.bytesTotal, `${(p.bytesDone / 1e6).toFixed(1)}/${(p.bytesTotal / 1e6).toFixed(1)} MB, ${p.filesDone}/${p.filesTotal} files`),
    );
    bar.done(`${upload.uploadedFiles} files, ${(upload.uploadedBytes / 1e6).toFixed(1)} MB in ${upload.seconds.toFixed(1)} s (${upload.skippedFiles} already there)`);
  }

  // The title is made last, so a failed packaging or upload leaves no empty title behind;
  // and a re-run of an ingest that already made its title links to that one again.
  let titleId: string | undefined;
  if (args.title && "id" in args.title) titleId = args.title.id;
  else if (args.title) titleId = existing?.linkedTo[0]?.titleId ?? (await api.createTitle(args.title)).id;
  const published = await api.publish(assetId, { ...(titleId ? { titleId } : {}), ...(args.episode ? { episode: args.episode } : {}) });
  const replication = await replicate(api, assetId, published.replication, quiet);
  const segments = titleId && !args.skipSegments ? await findSegments(api, args, assetId, titleId) : null;

  return {
    assetId,
    ...(published.titleId ? { titleId: published.titleId } : {}),
    ...(published.episodeId ? { episodeId: published.episodeId } : {}),
    packaging,
    upload,
    replication,
    // Unknown only when an earlier run published this asset and its local packaging is gone.
    ladder: (index?.video ?? []).map((v) => ({
      id: v.id,
      width: v.width,
      height: v.height,
      peakKbps: Math.round(v.bandwidth / 1000),
      averageKbps: Math.round(v.averageBandwidth / 1000),
    })),
    segments,
  };
}

/**
 * The video's analysis (audio fingerprints, dark pictures), kept on the server, then
 * detection over its season (or the film alone). The video is published by now: a
 * failure here is reported and leaves it playing without skip buttons, it fails nothing.
 */
async function findSegments(api: AdminApi, args: IngestArgs, assetId: string, titleId: string): Promise<Outcome["segments"]> {
  const bar = progressBar("segments", { quiet: args.json });
  try {
    const started = performance.now();
    const analysis = await analyzeEpisode(args.video, { assetId, onProgress: (f) => bar.update(f * 0.9) });
    const analysisSec = (performance.now() - started) / 1000;
    await api.putAnalysis(analysis);
    const report = args.episode ? await detectSeasonSegments(api, titleId, args.episode.season, analysis) : await detectFilmSegments(api, titleId, analysis);
    bar.done(`analysed in ${analysisSec.toFixed(1)} s; ${args.episode ? `season ${args.episode.season}` : "film"}:\n${describeSegments(report).join("\n")}`);
    return { ...report, analysisSec };
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    bar.done(`not found: ${message} (the video plays without skip buttons; run the ingest again to retry)`);
    return { error: message };
  }
}

/** Publish calls in a row that may move no replica on before the ingest stops asking. */
const STALLED_CALLS = 3;

/**
 * Replication to every replica: the publish step copies a bounded number of files per
 * call, so it is called again until each replica is complete. A replica that stays
 * failing is reported, not fatal: the asset plays from the primary, and another ingest
 * run (or `POST /v1/admin/assets/{id}/publish`) carries on where this one stopped.
 */
async function replicate(api: AdminApi, assetId: string, first: ReplicaStatus[], quiet: boolean): Promise<ReplicaStatus[]> {
  let statuses = first;
  if (statuses.every((s) => s.complete)) return statuses;
  const bar = progressBar("replicate", { quiet });
  const progress = (list: ReplicaStatus[]) => list.reduce((n, s) => n + s.filesDone, 0);
  const total = statuses.reduce((n, s) => n + s.filesTotal, 0);
  let stalled = 0;
  while (!statuses.every((s) => s.complete) && stalled < STALLED_CALLS) {
    bar.update(total === 0 ? 1 : progress(statuses) / total, statuses.map((s) => `${s.pathway} ${s.filesDone}/${s.filesTotal}`).join(", "));
    const before = progress(statuses);
    statuses = (await api.publish(assetId, {})).replication;
    stalled = progress(statuses) > before || statuses.every((s) => s.complete) ? 0 : stalled + 1;
  }
  const short = statuses.filter((s) => !s.complete);
  bar.done(short.length === 0 ? `${statuses.map((s) => s.pathway).join(", ")} complete` : `incomplete: ${short.map((s) => `${s.pathway} ${s.filesDone}/${s.filesTotal}${s.error ? ` (${s.error})` : ""}`).join("; ")}`);
  return statuses;
}

/** `--detect-segments SEASON --title ID`: detection again over what the season's episodes stored. */
async function redetect(args: IngestArgs): Promise<DetectionReport> {
  const api = new AdminApi(args.api, await adminToken(args));
  const titleId = (args.title as { id: string }).id;
  const report = await detectSeasonSegments(api, titleId, args.detectSegments!);
  if (!args.json) console.log(`season ${args.detectSegments} of ${titleId}, ${report.seconds.toFixed(1)} s:\n${describeSegments(report).join("\n")}`);
  return report;
}

function printSummary(outcome: Outcome): void {
  const lines = [`published ${outcome.assetId}${outcome.titleId ? ` → title ${outcome.titleId}` : ""}${outcome.episodeId ? `, episode ${outcome.episodeId}` : ""}`];
  if (outcome.packaging !== "reused") {
    const r = outcome.packaging;
    lines.push(`source ${r.source.width}x${r.source.height}, ${r.source.durationSec.toFixed(1)} s; complexity factor ${r.complexity?.factor.toFixed(2) ?? "n/a"}; encoded at ${r.realtimeFactor.toFixed(2)}x real time`);
  }
  for (const r of outcome.replication) lines.push(`replica ${r.pathway}: ${r.complete ? "complete" : `${r.filesDone}/${r.filesTotal} files (run the ingest again to carry on)`}`);
  for (const rung of outcome.ladder) lines.push(`  ${rung.id.padEnd(6)} ${`${rung.width}x${rung.height}`.padEnd(10)} peak ${rung.peakKbps} kb/s, average ${rung.averageKbps} kb/s`);
  console.log(lines.join("\n"));
}

async function main(): Promise<number> {
  let args: IngestArgs;
  try {
    args = parseIngestArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`ingest: ${err.message}\n${usage}`);
    return 2;
  }
  try {
    if (args.detectSegments !== null) {
      const report = await redetect(args);
      if (args.json) console.log(JSON.stringify({ ok: true, segments: report }));
      return 0;
    }
    const outcome = await ingest(args);
    if (args.json) console.log(JSON.stringify({ ok: true, ...outcome }));
    else printSummary(outcome);
    return 0;
  } catch (err) {
    const known = err instanceof IngestInputError || err instanceof AdminApiError || err instanceof UsageError;
    const message = known ? err.message : String((err as Error).message ?? err);
    const code = err instanceof IngestInputError ? err.code : err instanceof AdminApiError ? err.code : err instanceof UsageError ? "USAGE" : "FAILED";
    if (args.json) console.log(JSON.stringify({ ok: false, ...(currentAssetId ? { assetId: currentAssetId } : {}), error: { code, message } }));
    else console.error(`ingest: ${message}`);
    if (!known) console.error((err as Error).stack);
    return err instanceof UsageError ? 2 : 1;
  }
}

process.exit(await main());
