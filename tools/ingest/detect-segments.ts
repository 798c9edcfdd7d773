// The ingest's skip-segment step: an episode's (or film's) analysis goes to the server,
// then detection runs over every analysed episode of its season — a new episode can
// find the intro only by comparing with its siblings, and it may improve theirs too —
// and each episode's detected segments are stored (never over an operator's). Also what
// `npm run ingest -- --detect-segments SEASON --title ID` runs alone, from the stored
// analyses, without any source file.
import { type EpisodeAnalysis, type SkipSegment } from "../../lib/skip-segments.ts";
import { AdminApi, AdminApiError, type AdminTitleView } from "./admin-api.ts";
import { detectFilm, detectSeason } from "./segments/detect-season.ts";

export type EpisodeSegments = { season: number; episode: number; assetId: string; segments: (SkipSegment & { visible: boolean })[] };

export type DetectionReport = {
  /** Every episode the season's detection stored segments for (or the film alone). */
  stored: EpisodeSegments[];
  /** Episodes with video but no stored analysis (ingested before detection existed): ingest their source again. */
  unanalysed: { season: number; episode: number; assetId: string }[];
  seconds: number;
};

const missing = (err: unknown) => err instanceof AdminApiError && err.status === 404;

/** Detection over a season from what the server holds; `fresh` is an analysis just made (not fetched again). */
export async function detectSeasonSegments(api: AdminApi, titleId: string, season: number, fresh?: EpisodeAnalysis): Promise<DetectionReport> {
  const started = performance.now();
  const title: AdminTitleView = await api.title(titleId);
  const found = title.seasons.find((s) => s.number === season);
  if (!found) throw new AdminApiError(404, "NOT_FOUND", `${titleId} has no season ${season}`);
  const withVideo = [...found.episodes].sort((a, b) => a.number - b.number).filter((e) => e.assetId !== null);
  const analysed: { episode: number; assetId: string; analysis: EpisodeAnalysis }[] = [];
  const unanalysed: DetectionReport["unanalysed"] = [];
  // The season's analyses, a few at a time (each is tens of kilobytes).
  const fetched = await Promise.all(
    withVideo.map(async (e) => {
      if (fresh && fresh.assetId === e.assetId) return fresh;
      return api.analysis(e.assetId!).catch((err: unknown) => (missing(err) ? null : Promise.reject(err)));
    }),
  );
  withVideo.forEach((e, i) => {
    const analysis = fetched[i];
    if (analysis) analysed.push({ episode: e.number, assetId: e.assetId!, analysis });
    else unanalysed.push({ season, episode: e.number, assetId: e.assetId! });
  });
  const detected = detectSeason(analysed.map((a) => a.analysis));
  const stored: EpisodeSegments[] = [];
  for (const [i, a] of analysed.entries()) {
    const answer = await api.putDetectedSegments(titleId, { season, number: a.episode }, detected[i] ?? []);
    stored.push({ season, episode: a.episode, assetId: answer.assetId, segments: answer.segments });
  }
  return { stored, unanalysed, seconds: (performance.now() - started) / 1000 };
}

/** A film alone: its credits from its picture. */
export async function detectFilmSegments(api: AdminApi, titleId: string, analysis: EpisodeAnalysis): Promise<DetectionReport> {
  const started = performance.now();
  const answer = await api.putDetectedSegments(titleId, null, detectFilm(analysis));
  return { stored: [{ season: 0, episode: 0, assetId: answer.assetId, segments: answer.segments }], unanalysed: [], seconds: (performance.now() - started) / 1000 };
}

/** One line per episode for the terminal: "S1E2  recap 0.0–9.9 s  intro 12.0–27.0 s  credits 80.0–92.0 s (hidden: low confidence)". */
export function describeSegments(report: DetectionReport): string[] {
  const lines = report.stored.map((e) => {
    const label = e.season === 0 ? "film" : `S${e.season}E${e.episode}`;
    const spans = e.segments.map((s) => `${s.kind} ${s.startSec.toFixed(1)}–${s.endSec.toFixed(1)} s (${s.source}${s.source === "detected" ? ` ${Math.round(s.confidence * 100)}%` : ""}${s.visible ? "" : ", hidden: low confidence"})`);
    return `  ${label.padEnd(8)} ${spans.length ? spans.join("  ") : "none found"}`;
  });
  for (const u of report.unanalysed) lines.push(`  S${u.season}E${u.episode}   no analysis (ingested before detection): run the ingest of its source again`);
  return lines;
}
