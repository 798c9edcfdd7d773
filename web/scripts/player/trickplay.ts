// Thumbnails over the seek bar: the trick-play VTT (fetched once) maps the hovered time
// to a tile of the sprite, shown as a background positioned through CSSOM (element.style
// set from script is allowed by the CSP; style attributes in markup are not).
import type { PlayerElements } from "./dom.ts";
import { formatClock } from "./format.ts";
import type { TokenHolder } from "./tokens.ts";
import { cueAt, parseTrickPlayVtt, type ThumbnailCue } from "./trickplay-vtt.ts";

const DEFAULT_TILE = { w: 160, h: 90 };

export class TrickPlay {
  private cues: ThumbnailCue[] = [];
  private shownUrl: string | null = null;

  constructor(
    private readonly els: Pick<PlayerElements, "trickplay" | "trickplayImage" | "trickplayTime" | "seek">,
    private readonly tokens: TokenHolder,
    private readonly duration: () => number,
  ) {
    const wrap = els.seek.parentElement!;
    wrap.addEventListener("pointermove", (e) => this.showAtPointer(e.clientX));
    wrap.addEventListener("pointerleave", () => this.hide());
    els.seek.addEventListener("input", () => this.showAtTime(Number(els.seek.value)));
    els.seek.addEventListener("change", () => this.hide());
    els.seek.addEventListener("blur", () => this.hide());
  }

  /** Loads the VTT and warms the sprite(s) into the image cache; without it only the time shows. */
  async load(vttUrl: string | null): Promise<void> {
    if (!vttUrl) return;
    try {
      const url = this.tokens.rewrite(vttUrl);
      const res = await fetch(url);
      if (!res.ok) return;
      this.cues = parseTrickPlayVtt(await res.text(), url);
      for (const sprite of new Set(this.cues.map((c) => c.url))) {
        const img = new Image();
        img.decoding = "async";
        img.src = this.tokens.rewrite(sprite);
      }
    } catch {
      this.cues = [];
    }
  }

  get cueCount(): number {
    return this.cues.length;
  }

  private showAtPointer(clientX: number): void {
    const rect = this.els.seek.getBoundingClientRect();
    if (rect.width <= 0) return;
    const ratio = Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
    this.showAtTime(ratio * this.duration(), ratio);
  }

  showAtTime(time: number, ratio?: number): void {
    const duration = this.duration();
    if (!(duration > 0)) return;
    const { trickplay, trickplayImage, trickplayTime, seek } = this.els;
    const cue = cueAt(this.cues, time);
    trickplayTime.textContent = formatClock(time);
    const tile = cue?.tile ?? null;
    const w = tile?.w ?? DEFAULT_TILE.w;
    const h = tile?.h ?? DEFAULT_TILE.h;
    if (cue) {
      const sprite = this.tokens.rewrite(cue.url);
      if (sprite !== this.shownUrl) {
        trickplayImage.style.backgroundImage = `url(${JSON.stringify(sprite)})`;
        this.shownUrl = sprite;
      }
      trickplayImage.style.width = `${w}px`;
      trickplayImage.style.height = `${h}px`;
      trickplayImage.style.backgroundPosition = tile ? `-${tile.x}px -${tile.y}px` : "center";
      trickplayImage.style.backgroundSize = tile ? "auto" : "contain";
      trickplayImage.hidden = false;
      trickplay.dataset.time = String(Math.round(time * 10) / 10);
    } else {
      trickplayImage.hidden = true;
    }
    const width = seek.getBoundingClientRect().width;
    const x = (ratio ?? time / duration) * width;
    trickplay.style.left = `${Math.max(0, Math.min(width - w, x - w / 2))}px`;
    trickplay.hidden = false;
  }

  hide(): void {
    this.els.trickplay.hidden = true;
  }
}
