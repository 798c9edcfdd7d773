// HLS playlists (multivariant, per-track media, subtitles) generated from an asset's rendition
// index, with its skip segments (lib/skip-segments.ts) as EXT-X-DATERANGE tags in the media playlists.
import type {
  AudioTrack,
  RenditionIndex,
  SegmentList,
  SubtitleTrack,
  VideoRendition,
} from "../../../lib/media-index.ts";
import { SKIP_DATERANGE_CLASS, type VisibleSkipSegment } from "../../../lib/skip-segments.ts";
import { allowedVideo } from "./ladder.ts";
import { msAsSeconds, skipSpans, type SkipSpan } from "./skip.ts";
import { steered, type ManifestPathways } from "./pathways.ts";
import { relativeTo } from "./uri.ts";

const AUDIO_GROUP = "audio";
const SUBTITLE_GROUP = "subs";
/** Folder (relative to the asset) that subtitle playlists are served from. */
const SUBTITLE_FOLDER = "subs";

/**
 * The date an on-demand playlist with skip segments gives its media time 0 (RFC 8216: a
 * playlist with EXT-X-DATERANGE must have an EXT-X-PROGRAM-DATE-TIME), so a date is this
 * plus media time. Not the Unix epoch: hls.js (1.7) takes a program date-time of 0 for none
 * in places (`prevFrag?.programDateTime`), so only the first segment would be dated and a
 * range starting in the first segment's span would get startTime NaN.
 */
export const SKIP_EPOCH_MS = Date.UTC(2000, 0, 1);

/**
 * The multivariant (master) playlist: every audio track, every subtitle, and one variant per
 * video rendition the height cap allows. With nothing allowed it lists nothing at all, so an
 * accidental 200 still plays nothing; callers should answer 403 from `allowedVideo` first.
 */
export function multivariantPlaylist(index: RenditionIndex, maxHeight: number, pathways?: ManifestPathways): string {
  const videos = allowedVideo(index, maxHeight);
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
  if (videos.length === 0) return joinLines(lines);
  if (!steered(pathways)) {
    lines.push(...audioMediaTags(index.audio, groups("")), ...subtitleMediaTags(index.subtitles, groups("")));
    for (const video of videos) lines.push(streamInf(video, index, groups("")), `${video.id}/playlist.m3u8`);
    return joinLines(lines);
  }
  // HLS Content Steering (RFC 8216bis §4.4.6.6): every variant once per pathway, with its
  // PATHWAY-ID, and each pathway's renditions in groups of their own, so a player that
  // moves to another pathway moves its audio and subtitles with it. The requested
  // pathway's URIs stay relative (as without steering: a player that ignores the tag
  // plays them); every other pathway's are absolute paths.
  lines.push(`#EXT-X-CONTENT-STEERING:SERVER-URI=${quoted(pathways.serverUri)},PATHWAY-ID=${quoted(pathways.initial)}`);
  for (const [i, id] of pathways.ids.entries()) {
    const g = groups(i === 0 ? "" : `-${id}`, id === pathways.current ? "" : pathways.base(id));
    lines.push(...audioMediaTags(index.audio, g), ...subtitleMediaTags(index.subtitles, g));
    for (const video of videos) lines.push(`${streamInf(video, index, g)},PATHWAY-ID=${quoted(id)}`, `${g.base}${video.id}/playlist.m3u8`);
  }
  return joinLines(lines);
}

type Groups = { audio: string; subtitles: string; base: string };

/** One pathway's rendition groups ("audio", or "audio-p2" on a second pathway) and URI prefix. */
function groups(suffix: string, base = ""): Groups {
  return { audio: `${AUDIO_GROUP}${suffix}`, subtitles: `${SUBTITLE_GROUP}${suffix}`, base };
}

/**
 * What makes a media playlist live (lib/live/live-state.ts): its window slides, so the
 * discontinuities before it are counted, each run is dated, and there is no end yet.
 */
export type LivePlaylist = {
  targetDurationSec: number;
  discontinuitySequence: number;
  /** Each run's first segment number and its program date-time (ms). */
  runStartsMs: { startNumber: number; pdtMs: number }[];
};

/**
 * The media playlist of one video or audio track, or null when the index has no such
 * track: VOD (the whole asset, ENDLIST), or with `live` the window of a live event. Both
 * mark where the media restarts (EXT-X-DISCONTINUITY) and the segments a track lacks (EXT-X-GAP).
 * A VOD playlist with `skip` segments dates its media from SKIP_EPOCH_MS and carries one
 * EXT-X-DATERANGE per segment before its first media segment; without them it is unchanged.
 */
export function mediaPlaylist(index: RenditionIndex, trackId: string, live?: LivePlaylist, skip: readonly VisibleSkipSegment[] = []): string | null {
  const track = findTrack(index, trackId);
  if (!track) return null;
  const { segments } = track;
  // A live window's dates are the broadcast's own; skip segments are for on-demand media.
  const spans = live ? [] : skipSpans(index, skip);
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${live ? live.targetDurationSec : targetDuration(segments)}`,
    `#EXT-X-MEDIA-SEQUENCE:${live ? segments.startNumber : 0}`,
    ...(live ? [`#EXT-X-DISCONTINUITY-SEQUENCE:${live.discontinuitySequence}`] : ["#EXT-X-PLAYLIST-TYPE:VOD"]),
    "#EXT-X-INDEPENDENT-SEGMENTS",
    // Relative to `{trackId}/playlist.m3u8`, so these resolve inside the track's folder.
    '#EXT-X-MAP:URI="init.m4s"',
  ];
  const restarts = new Set((segments.runs ?? []).map((run) => run.startNumber).filter((n) => n !== segments.startNumber));
  const gaps = new Set(segments.gaps ?? []);
  const dated = live ? new Map(live.runStartsMs.map((run) => [run.startNumber, run.pdtMs])) : mediaTimeDates(segments, spans.length > 0 ? restarts : null);
  segments.durations.forEach((duration, i) => {
    const n = segments.startNumber + i;
    if (restarts.has(n) || (live && i > 0 && dated.has(n))) lines.push("#EXT-X-DISCONTINUITY");
    const pdt = dated.get(n);
    if (pdt !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(pdt).toISOString()}`);
    if (i === 0) lines.push(...spans.map(dateRangeTag));
    if (gaps.has(n)) lines.push("#EXT-X-GAP");
    lines.push(`#EXTINF:${seconds(duration / segments.timescale)},`, `${n}.m4s`);
  });
  if (!live) lines.push("#EXT-X-ENDLIST");
  return joinLines(lines);
}

/**
 * The playlist wrapping one WebVTT file as a single segment (HLS cannot point a SUBTITLES
 * rendition at a bare VTT), or null when the index has no subtitle in `lang`.
 */
export function subtitlePlaylist(index: RenditionIndex, lang: string): string | null {
  const subtitle = index.subtitles.find((track) => track.lang === lang);
  if (!subtitle) return null;
  return joinLines([
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${Math.ceil(index.durationSec)}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    `#EXTINF:${seconds(index.durationSec)},`,
    relativeTo(SUBTITLE_FOLDER, subtitle.path),
    "#EXT-X-ENDLIST",
  ]);
}

/**
 * With `restarts` (the playlist has skip segments), the first segment and the first of each
 * run dated at their media time from SKIP_EPOCH_MS, so no client has to carry a date across
 * an EXT-X-DISCONTINUITY (an asset without restarts gets exactly one). Without, no dates.
 */
function mediaTimeDates(segments: SegmentList, restarts: Set<number> | null): Map<number, number> {
  const dates = new Map<number, number>();
  if (!restarts) return dates;
  let elapsed = 0;
  segments.durations.forEach((duration, i) => {
    const n = segments.startNumber + i;
    if (i === 0 || restarts.has(n)) dates.set(n, SKIP_EPOCH_MS + Math.round((elapsed * 1000) / segments.timescale));
    elapsed += duration;
  });
  return dates;
}

/**
 * One skip segment: ID (its kind, unique in the playlist: skipSpans), the platform's
 * CLASS, its span as dates, and the same in plain media seconds for a client that would
 * rather not map dates (X-START-SEC, X-END-SEC), with its kind (X-KIND).
 */
function dateRangeTag(span: SkipSpan): string {
  return `#EXT-X-DATERANGE:${attributeList([
    ["ID", quoted(span.kind)],
    ["CLASS", quoted(SKIP_DATERANGE_CLASS)],
    ["START-DATE", quoted(new Date(SKIP_EPOCH_MS + span.startMs).toISOString())],
    ["DURATION", msAsSeconds(span.endMs - span.startMs)],
    ["X-KIND", quoted(span.kind)],
    ["X-START-SEC", msAsSeconds(span.startMs)],
    ["X-END-SEC", msAsSeconds(span.endMs)],
  ])}`;
}

function audioMediaTags(audio: AudioTrack[], g: Groups): string[] {
  const names = uniqueNames(audio.map((track) => track.name));
  const defaultAt = defaultIndex(audio, true);
  return audio.map((track, i) =>
    mediaTag([
      ["TYPE", "AUDIO"],
      ["GROUP-ID", quoted(g.audio)],
      ["NAME", quoted(names[i] ?? track.id)],
      ["LANGUAGE", quoted(track.lang)],
      ["DEFAULT", yesNo(i === defaultAt)],
      ["AUTOSELECT", "YES"],
      ["CHANNELS", quoted(String(track.channels))],
      ["URI", quoted(`${g.base}${track.id}/playlist.m3u8`)],
    ]),
  );
}

function subtitleMediaTags(subtitles: SubtitleTrack[], g: Groups): string[] {
  const names = uniqueNames(subtitles.map((track) => track.name));
  // Subtitles stay off unless the index asks for one: no fallback default as for audio.
  const defaultAt = defaultIndex(subtitles, false);
  return subtitles.map((track, i) =>
    mediaTag([
      ["TYPE", "SUBTITLES"],
      ["GROUP-ID", quoted(g.subtitles)],
      ["NAME", quoted(names[i] ?? track.lang)],
      ["LANGUAGE", quoted(track.lang)],
      ["DEFAULT", yesNo(i === defaultAt)],
      ["AUTOSELECT", "YES"],
      ["FORCED", "NO"],
      ["URI", quoted(`${g.base}${SUBTITLE_FOLDER}/${encodeURIComponent(track.lang)}.m3u8`)],
    ]),
  );
}

function streamInf(video: VideoRendition, index: RenditionIndex, g: Groups): string {
  // BANDWIDTH must bound the whole variant, so it pairs with the most demanding audio track;
  // CODECS must name every format any rendition of the variant may use.
  const audio = loudestAudio(index.audio);
  const audioCodecs = [...new Set(index.audio.map((track) => track.codecs))];
  const attributes: [string, string][] = [
    ["BANDWIDTH", String(video.bandwidth + (audio?.bandwidth ?? 0))],
    ["AVERAGE-BANDWIDTH", String(video.averageBandwidth + (audio?.averageBandwidth ?? 0))],
    ["CODECS", quoted([video.codecs, ...audioCodecs].join(","))],
    ["RESOLUTION", `${video.width}x${video.height}`],
    ["FRAME-RATE", video.frameRate.toFixed(3)],
  ];
  if (audio) attributes.push(["AUDIO", quoted(g.audio)]);
  if (index.subtitles.length > 0) attributes.push(["SUBTITLES", quoted(g.subtitles)]);
  return `#EXT-X-STREAM-INF:${attributeList(attributes)}`;
}

function loudestAudio(audio: AudioTrack[]): AudioTrack | undefined {
  return audio.reduce<AudioTrack | undefined>((best, track) => (best && best.bandwidth >= track.bandwidth ? best : track), undefined);
}

function findTrack(index: RenditionIndex, trackId: string): { segments: SegmentList } | undefined {
  return index.video.find((track) => track.id === trackId) ?? index.audio.find((track) => track.id === trackId);
}

/**
 * The smallest whole number of seconds no segment exceeds. Integer arithmetic, because a float
 * quotient like 6.000000001 would bump the target by a whole second.
 */
function targetDuration({ durations, timescale }: SegmentList): number {
  const longest = Math.max(...durations);
  return Math.floor((longest + timescale - 1) / timescale);
}

/**
 * Where the DEFAULT=YES goes: HLS allows at most one per group, so the first flagged track
 * wins; with none flagged, `fallbackToFirst` picks the first track (-1 means none).
 */
function defaultIndex(tracks: { default: boolean }[], fallbackToFirst: boolean): number {
  const flagged = tracks.findIndex((track) => track.default);
  if (flagged >= 0) return flagged;
  return fallbackToFirst && tracks.length > 0 ? 0 : -1;
}

/** NAME must be unique within a group; players key renditions by it and drop duplicates. */
function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw) => {
    const name = attributeText(raw);
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name} (${count})`;
  });
}

function mediaTag(attributes: [string, string][]): string {
  return `#EXT-X-MEDIA:${attributeList(attributes)}`;
}

function attributeList(attributes: [string, string][]): string {
  return attributes.map(([key, value]) => `${key}=${value}`).join(",");
}

/** A quoted-string attribute value: it cannot contain `"`, CR or LF (RFC 8216 §4.2), so they are replaced. */
function quoted(value: string): string {
  return `"${attributeText(value)}"`;
}

function attributeText(value: string): string {
  return value.replace(/"/g, "'").replace(/[\r\n]+/g, " ");
}

function yesNo(flag: boolean): string {
  return flag ? "YES" : "NO";
}

function seconds(value: number): string {
  return value.toFixed(6);
}

function joinLines(lines: string[]): string {
  return `${lines.join("\n")}\n`;
}
