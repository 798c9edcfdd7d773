// Reads subtitle files for a packaging run (any common encoding) and writes them as `subs/{lang}.vtt`.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { SubtitleTrack } from "../../lib/media-index.ts";
import { IngestInputError } from "./errors.ts";
import { toWebVtt } from "./subtitles.ts";

export type SubtitleInput = { lang: string; name: string; path: string; default?: boolean };

export type LoadedSubtitle = { lang: string; name: string; default: boolean; vtt: string };

/** Read and converted before any encoding, so a bad subtitle file costs seconds, not an encode. */
export async function loadSubtitles(inputs: SubtitleInput[]): Promise<LoadedSubtitle[]> {
  const loaded: LoadedSubtitle[] = [];
  for (const input of inputs) {
    const bytes = await readFile(input.path).catch(() => {
      throw new IngestInputError(`subtitle file ${input.path} is unreadable`, "SUBTITLES_UNREADABLE");
    });
    try {
      loaded.push({ lang: input.lang, name: input.name, default: input.default ?? false, vtt: toWebVtt(decodeText(bytes)) });
    } catch (error) {
      if (!(error instanceof IngestInputError)) throw error;
      throw new IngestInputError(`subtitle file ${input.path} is not SRT or WebVTT`, "SUBTITLES_INVALID");
    }
  }
  return loaded;
}

/** UTF-8, or UTF-16 with a BOM, or else Windows-1252, which older SRT files are mostly in. */
function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  // NUL bytes mean binary (or BOM-less UTF-16), which no subtitle parser here reads.
  if (bytes.includes(0)) throw new IngestInputError("binary data", "SUBTITLES_INVALID");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

export async function writeSubtitles(dir: string, subtitles: LoadedSubtitle[]): Promise<SubtitleTrack[]> {
  if (subtitles.length > 0) await mkdir(path.join(dir, "subs"));
  const tracks: SubtitleTrack[] = [];
  for (const subtitle of subtitles) {
    const file = `subs/${subtitle.lang.toLowerCase()}.vtt`;
    await writeFile(path.join(dir, file), subtitle.vtt);
    tracks.push({ lang: subtitle.lang, name: subtitle.name, path: file, default: subtitle.default });
  }
  return tracks;
}
