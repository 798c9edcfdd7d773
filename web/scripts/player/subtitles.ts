// Subtitles: the select lists the Play answer's languages. A language the stream itself
// carries (an HLS SUBTITLES rendition, loaded by hls.js on the newest token) is shown
// through the engine; otherwise a <track> with the WebVTT file's URL stands in.
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import type { Engine } from "./engine.ts";
import type { TokenHolder } from "./tokens.ts";

type Listed = StartedPlayback["subtitles"][number];

export class Subtitles {
  private streamLangs: string[] | null = null;
  private chosen: string | null;
  private fallback = new Map<string, HTMLTrackElement>();

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly listed: Listed[],
    private readonly tokens: TokenHolder,
    private engine: Engine | null,
  ) {
    this.chosen = listed.find((s) => s.default)?.lang ?? null;
  }

  /** What the select offers: the Play answer's list, else whatever the stream has. */
  options(): { lang: string; name: string }[] {
    if (this.listed.length > 0) return this.listed.map((s) => ({ lang: s.lang, name: s.name }));
    return (this.streamLangs ?? []).map((lang) => ({ lang, name: lang }));
  }

  get current(): string | null {
    return this.chosen;
  }

  attach(engine: Engine): void {
    this.engine = engine;
  }

  /** The engine reported the stream's own subtitle tracks: apply the choice (the default, at first). */
  streamTracks(langs: string[]): void {
    this.streamLangs = langs;
    this.choose(this.chosen);
  }

  choose(lang: string | null): void {
    this.chosen = lang;
    if (this.streamLangs === null) return; // applied once the stream's tracks are known
    const inStream = lang !== null && this.streamLangs.includes(lang);
    this.engine?.setSubtitles(inStream ? lang : null);
    for (const [trackLang, track] of this.fallback) track.track.mode = !inStream && trackLang === lang ? "showing" : "disabled";
    if (lang === null || inStream || this.fallback.has(lang)) return;
    const item = this.listed.find((s) => s.lang === lang);
    if (!item) return;
    const track = document.createElement("track");
    track.kind = "subtitles";
    track.srclang = item.lang;
    track.label = item.name;
    const src = this.tokens.rewrite(item.url);
    if (new URL(src, location.href).origin !== location.origin) this.video.crossOrigin = "anonymous";
    track.src = src;
    this.video.append(track);
    track.track.mode = "showing";
    this.fallback.set(lang, track);
  }
}
