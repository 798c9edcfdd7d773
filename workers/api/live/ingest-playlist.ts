// Reads the media playlist ffmpeg's HLS muxer PUTs after every segment: for each segment it
// lists, the number in its file name, its duration, and the program date-time ffmpeg
// stamped on it. Line by line with anchored patterns (no backtracking), canonical forms only.
export class PlaylistError extends Error {}

export type IngestEntry = { n: number; durationSec: number; pdtMs: number | null };

const MAX_LINE = 1024;
const EXTINF = /^#EXTINF:(\d{1,4}(?:\.\d{1,9})?),[^\r\n]{0,256}$/;
const PDT = /^#EXT-X-PROGRAM-DATE-TIME:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z|[+-]\d{2}:?\d{2})$/;
/** Segment numbers as ffmpeg writes them with `-hls_segment_filename …/%d.m4s`: no sign, no leading zeros. */
export const SEGMENT_NAME = /^(0|[1-9]\d{0,7})\.m4s$/;

function pdtMs(date: string, zone: string): number {
  const offset = zone === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = Date.parse(`${date}${offset}`);
  if (!Number.isFinite(ms)) throw new PlaylistError(`program date-time ${date}${zone} is not a date`);
  return ms;
}

/** The playlist's segments, oldest first; a playlist that is not one throws PlaylistError. */
export function parseIngestPlaylist(text: string): { entries: IngestEntry[]; ended: boolean } {
  const lines = text.split("\n");
  if (lines[0]?.replace(/\r$/, "") !== "#EXTM3U") throw new PlaylistError("not an HLS playlist (no #EXTM3U)");
  const entries: IngestEntry[] = [];
  let duration: number | null = null;
  let pdt: number | null = null;
  let ended = false;
  for (const raw of lines.slice(1)) {
    if (raw.length > MAX_LINE) throw new PlaylistError("a playlist line is too long");
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") continue;
    if (line.startsWith("#")) {
      const inf = EXTINF.exec(line);
      if (inf) {
        duration = Number(inf[1]);
        if (!(duration > 0)) throw new PlaylistError("a segment duration must be positive");
        continue;
      }
      if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) {
        const m = PDT.exec(line);
        if (!m) throw new PlaylistError("a program date-time that is not ISO 8601");
        pdt = pdtMs(m[1]!, m[2]!);
      }
      if (line === "#EXT-X-ENDLIST") ended = true;
      // Every other tag (version, target duration, map, ...) says nothing the ingest needs.
      continue;
    }
    const name = SEGMENT_NAME.exec(line);
    if (!name) throw new PlaylistError(`segment URI ${line.slice(0, 40)} is not {n}.m4s`);
    if (duration === null) throw new PlaylistError(`segment ${line} has no #EXTINF`);
    entries.push({ n: Number(name[1]), durationSec: duration, pdtMs: pdt });
    duration = null;
    pdt = null;
  }
  return { entries, ended };
}
