// Turns SRT (or WebVTT) subtitle text into the WebVTT every player here reads (pure; refuses what is neither).
import { IngestInputError } from "./errors.ts";

/** `HH:MM:SS,mmm` with optional hours, either separator, 1-3 fraction digits, as found in the wild. */
const SRT_TIME = /(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})/;
const SRT_TIMING = new RegExp(`^\\s*${SRT_TIME.source}\\s*-->\\s*${SRT_TIME.source}`);
const VTT_TIME = /(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}/;
const VTT_TIMING = new RegExp(`^${VTT_TIME.source}[ \\t]+-->[ \\t]+${VTT_TIME.source}(?:[ \\t].*)?$`);

/** Either format in, WebVTT out; what a subtitle file is decides, not its name. */
export function toWebVtt(text: string): string {
  const normalized = normalizeText(text);
  return /^WEBVTT(?:[ \t\n]|$)/.test(normalized) ? checkVtt(normalized) : srtToVtt(normalized);
}

/**
 * SRT to WebVTT: comma decimal separators become dots, numeric cue ids are kept, text
 * (including `<i>`-style tags, which WebVTT shares or ignores) is kept. A text block with no
 * timing line is taken as a stray blank line inside the previous cue's text.
 */
export function srtToVtt(text: string): string {
  const blocks = normalizeText(text)
    .split(/\n{2,}/)
    .map((block) => block.split("\n"))
    .filter((lines) => lines.some((line) => line.trim() !== ""));
  const cues: string[][] = [];
  for (const lines of blocks) {
    const cue = parseSrtBlock(lines);
    if (cue) cues.push(cue);
    else if (cues.length > 0) cues.at(-1)!.push(...lines.map(escapeArrow));
    else invalid(`the first block is not a cue: "${lines[0]!.slice(0, 40)}"`);
  }
  if (cues.length === 0) invalid("it has no cues");
  return `WEBVTT\n\n${cues.map((cue) => cue.join("\n")).join("\n\n")}\n`;
}

function normalizeText(text: string): string {
  // Whitespace-only lines end a cue in both formats, as empty ones do.
  return text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").replace(/^[ \t]+$/gm, "").trim();
}

/** `[id, timing, ...text]` in WebVTT form, or null if the block has no SRT timing line. */
function parseSrtBlock(lines: string[]): string[] | null {
  const timingIndex = /^\s*\d+\s*$/.test(lines[0]!) && lines.length > 1 ? 1 : 0;
  const match = SRT_TIMING.exec(lines[timingIndex]!);
  if (!match) return null;
  const start = srtMillis(match.slice(1, 5));
  const end = srtMillis(match.slice(5, 9));
  if (end < start) invalid(`a cue ends before it starts: "${lines[timingIndex]!.trim()}"`);
  // SRT's optional X1:.. Y2:.. box after the timing has no WebVTT equivalent: dropped.
  const id = timingIndex === 1 ? [lines[0]!.trim()] : [];
  return [...id, `${vttTime(start)} --> ${vttTime(end)}`, ...lines.slice(timingIndex + 1).map(escapeArrow)];
}

function srtMillis([hours, minutes, seconds, fraction]: (string | undefined)[]): number {
  // ",5" is half a second, as a decimal fraction, not 5 ms.
  const ms = Math.round(Number(`0.${fraction}`) * 1000);
  return ((Number(hours ?? 0) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + ms;
}

export function vttTime(totalMs: number): string {
  const ms = Math.round(totalMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const clock = [Math.floor(ms / 3_600_000), Math.floor(ms / 60_000) % 60, Math.floor(ms / 1000) % 60].map((n) => pad(n));
  return `${clock.join(":")}.${pad(ms % 1000, 3)}`;
}

/** "-->" ends a WebVTT cue's timing, so it cannot appear in cue text. */
function escapeArrow(line: string): string {
  return line.replaceAll("-->", "--&gt;");
}

/** WebVTT passes through (normalized) once every timing line is well formed and there is a cue. */
function checkVtt(text: string): string {
  const timings = text.split("\n").filter((line) => line.includes("-->"));
  const bad = timings.find((line) => !VTT_TIMING.test(line.trim()));
  if (bad !== undefined) invalid(`a malformed timing line: "${bad.trim().slice(0, 60)}"`);
  if (timings.length === 0) invalid("it has no cues");
  return `${text}\n`;
}

function invalid(reason: string): never {
  throw new IngestInputError(`subtitles are not SRT or WebVTT: ${reason}`, "SUBTITLES_INVALID");
}
