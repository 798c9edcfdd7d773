// "Skip intro" / "Skip recap" (lib/skip-segments.ts, from the Play answer's `skipSegments`):
// a button over the picture while the playhead is in an intro or recap (and the S key), which
// seeks to its end; with the profile's `autoSkip`, the skip happens by itself once as
// playback enters the span — never when the viewer seeked into it, since then they want to
// see it. Playing through a span to its end is reported too (segment_watched). Credits have
// no button: the next episode's countdown (next-episode.ts) starts at them instead.
import type { SkipSegmentKind, VisibleSkipSegment } from "../../../lib/skip-segments.ts";
import type { PlayerElements } from "./dom.ts";

/** The button goes this long before the span's end: a skip there would gain nothing. */
const HIDE_BEFORE_END_SEC = 0.5;
/** Playback "enters" a span from before it, or starts within this much of its start. */
const ENTER_WITHIN_SEC = 1;
/** A span is played through once the playhead reaches this close to its end (or the video's). */
const WATCHED_WITHIN_SEC = 0.3;
/** Between two timeupdates of plain playback (a seek resets the previous position anyway). */
const MAX_PLAYED_STEP_SEC = 2;
const TOAST_MS = 2500;

const LABELS: Partial<Record<SkipSegmentKind, string>> = { intro: "intro", recap: "recap" };

export type SkipHooks = {
  /** Moves the playhead for a skip (not a viewer's seek: no `seek` event of its own). */
  seek(toSec: number): void;
  record(type: "segment_skipped" | "segment_watched", segment: SkipSegmentKind, positionSec: number): void;
};

/** autoSkipSpent: auto-skipped once already, or the viewer seeked into it (theirs to watch). */
type Span = VisibleSkipSegment & { autoSkipSpent: boolean; watched: boolean };

export class SkipSegments {
  private readonly spans: Span[];
  private prev: number | null = null;
  private visibleSpan: Span | null = null;
  private toastTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly els: Pick<PlayerElements, "skipSegment" | "skipToast">,
    segments: readonly VisibleSkipSegment[],
    private readonly autoSkip: boolean,
    private readonly hooks: SkipHooks,
  ) {
    this.spans = segments.map((s) => ({ kind: s.kind, startSec: s.startSec, endSec: s.endSec, autoSkipSpent: false, watched: false }));
    els.skipSegment.hidden = true;
  }

  /** Where the credits begin, if the title has them. */
  get creditsStartSec(): number | null {
    return this.spans.find((s) => s.kind === "credits")?.startSec ?? null;
  }

  get visible(): SkipSegmentKind | null {
    return this.visibleSpan?.kind ?? null;
  }

  /** The viewer asked for a seek to `toSec` (seek bar, keys, ±10 s): a span they land in is theirs to watch. */
  viewerSeek(toSec: number): void {
    const span = this.skippableAt(toSec);
    if (span) span.autoSkipSpent = true;
  }

  /** Any seek began: the next position is not reached by playing. */
  seeking(): void {
    this.prev = null;
  }

  /** The button or the S key, at playhead `t`: skips what the button offers. */
  skip(t: number): void {
    if (this.visibleSpan) this.skipOver(this.visibleSpan, t);
  }

  /** From timeupdate. */
  update(t: number, duration: number): void {
    const prev = this.prev;
    this.prev = t;
    for (const span of this.spans) {
      const end = (duration > 0 ? Math.min(span.endSec, duration) : span.endSec) - WATCHED_WITHIN_SEC;
      if (!span.watched && prev !== null && prev < end && t >= end && t - prev <= MAX_PLAYED_STEP_SEC) {
        span.watched = true;
        this.hooks.record("segment_watched", span.kind, t);
      }
    }
    const span = this.skippableAt(t);
    if (span && this.autoSkip && !span.autoSkipSpent) {
      const entered = prev === null ? t - span.startSec < ENTER_WITHIN_SEC : prev < span.startSec;
      if (entered) {
        span.autoSkipSpent = true;
        this.skipOver(span, t);
        this.toast(`Skipped ${LABELS[span.kind]}`);
        return;
      }
    }
    this.paint(span);
  }

  private skippableAt(t: number): Span | null {
    return this.spans.find((s) => LABELS[s.kind] && s.startSec <= t && t < s.endSec - HIDE_BEFORE_END_SEC) ?? null;
  }

  private skipOver(span: Span, fromSec: number): void {
    this.hooks.record("segment_skipped", span.kind, fromSec);
    this.prev = null;
    this.paint(null);
    this.hooks.seek(span.endSec);
  }

  private paint(span: Span | null): void {
    if (span === this.visibleSpan) return;
    const button = this.els.skipSegment;
    // Let go of the focus before hiding, so the keys go on working on the page.
    if (!span && document.activeElement === button) button.blur();
    this.visibleSpan = span;
    button.hidden = span === null;
    if (!span) return;
    const label = `Skip ${LABELS[span.kind]}`;
    button.textContent = label;
    button.setAttribute("aria-label", label);
    button.dataset.kind = span.kind;
  }

  private toast(text: string): void {
    const toast = this.els.skipToast;
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (toast.hidden = true), TOAST_MS);
  }
}
