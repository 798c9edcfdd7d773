// Trick-play thumbnails: a WebVTT file whose cues map time ranges to tiles of a sprite,
// `sprite.jpg#xywh=x,y,w,h` (Media Fragments), relative to the VTT's own URL.

export type ThumbnailCue = {
  start: number;
  end: number;
  /** The sprite's absolute URL, without the fragment. */
  url: string;
  /** The tile in the sprite, in pixels; null when the cue shows the whole image. */
  tile: { x: number; y: number; w: number; h: number } | null;
};

const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})/;

/** "01:02:03.500" or "02:03.5" to seconds. */
export function parseVttTime(text: string): number {
  const [clock, fraction = "0"] = text.split(/[.,]/) as [string, string?];
  const parts = clock.split(":").map(Number);
  let seconds = 0;
  for (const part of parts) seconds = seconds * 60 + part;
  return seconds + Number(`0.${fraction}`);
}

function parseTile(fragment: string): ThumbnailCue["tile"] {
  const m = /(?:^|&)xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)(?:&|$)/.exec(fragment);
  if (!m) return null;
  const [x, y, w, h] = m.slice(1, 5).map(Number) as [number, number, number, number];
  return w > 0 && h > 0 ? { x, y, w, h } : null;
}

/** The cues of a trick-play VTT, in time order; lines that are not cues are skipped. */
export function parseTrickPlayVtt(text: string, vttUrl: string): ThumbnailCue[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  if (!/^WEBVTT/.test(lines[0] ?? "")) return [];
  const cues: ThumbnailCue[] = [];
  for (let i = 1; i < lines.length; i++) {
    const timing = TIMING.exec(lines[i]!);
    if (!timing) continue;
    const payload = (lines[i + 1] ?? "").trim();
    if (!payload) continue;
    i++;
    const hash = payload.indexOf("#");
    const path = hash >= 0 ? payload.slice(0, hash) : payload;
    let url: string;
    try {
      url = new URL(path, vttUrl).href;
    } catch {
      continue;
    }
    const start = parseVttTime(timing[1]!);
    const end = parseVttTime(timing[2]!);
    if (!(end > start)) continue;
    cues.push({ start, end, url, tile: hash >= 0 ? parseTile(payload.slice(hash + 1)) : null });
  }
  return cues.sort((a, b) => a.start - b.start);
}

/** The cue showing at `time` (binary search), the last one past the end, or null. */
export function cueAt(cues: ThumbnailCue[], time: number): ThumbnailCue | null {
  let lo = 0;
  let hi = cues.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const cue = cues[mid]!;
    if (time < cue.start) hi = mid - 1;
    else if (time >= cue.end) lo = mid + 1;
    else return cue;
  }
  // In a gap between cues, or past the last: the one before.
  return hi >= 0 ? cues[hi]! : null;
}
