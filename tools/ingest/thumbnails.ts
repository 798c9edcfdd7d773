// Trick-play layout: one sprite grid per asset and the WebVTT that maps time ranges to its tiles (pure).
import { vttTime } from "./subtitles.ts";

export type SpriteLayout = {
  /** Size of one tile. */
  width: number;
  height: number;
  intervalSec: number;
  tiles: number;
  columns: number;
  rows: number;
};

/** Tiles fit this box (160 wide for landscape, 160 tall for portrait): seek-bar preview size. */
const TILE_BOX = 160;
/** Above ~4096 px a side some browsers and GPUs refuse or downscale an image. */
const MAX_SPRITE_SIDE = 4096;
const MIN_INTERVAL_SEC = 2;

/**
 * One tile every 2 s, widened to whole seconds for long inputs so the grid stays within
 * 4096 px a side (a 2-hour 16:9 film gets a tile every 7 s in a 25x42 grid).
 */
export function spriteLayout(picture: { width: number; height: number }, durationSec: number): SpriteLayout {
  const scale = TILE_BOX / Math.max(picture.width, picture.height);
  const width = even(picture.width * scale);
  const height = even(picture.height * scale);
  const maxColumns = Math.floor(MAX_SPRITE_SIDE / width);
  const maxTiles = maxColumns * Math.floor(MAX_SPRITE_SIDE / height);
  const intervalSec = Math.max(MIN_INTERVAL_SEC, Math.ceil(durationSec / maxTiles));
  const tiles = Math.ceil(durationSec / intervalSec);
  const columns = Math.min(tiles, maxColumns);
  return { width, height, intervalSec, tiles, columns, rows: Math.ceil(tiles / columns) };
}

/** Cue i covers [i, i+1) intervals and shows tile i, row by row; paths are relative to the VTT itself. */
export function thumbnailsVtt(layout: SpriteLayout, durationSec: number, spriteName: string): string {
  const cues: string[] = [];
  for (let i = 0; i < layout.tiles; i++) {
    const start = i * layout.intervalSec;
    const end = Math.min(start + layout.intervalSec, durationSec);
    const x = (i % layout.columns) * layout.width;
    const y = Math.floor(i / layout.columns) * layout.height;
    cues.push(`${vttTime(start * 1000)} --> ${vttTime(end * 1000)}\n${spriteName}#xywh=${x},${y},${layout.width},${layout.height}`);
  }
  return `WEBVTT\n\n${cues.join("\n\n")}\n`;
}

/** The filter chain that turns a constant-rate picture into the sprite: first frame of each interval, tiled. */
export function spriteFilter(layout: SpriteLayout): string {
  return (
    `select='gte(t,${layout.intervalSec}*selected_n)',scale=${layout.width}:${layout.height},` +
    `tile=${layout.columns}x${layout.rows}`
  );
}

function even(x: number): number {
  return Math.max(2, 2 * Math.round(x / 2));
}
