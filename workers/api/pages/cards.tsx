// A title as a poster card: a link to its page with artwork of fixed dimensions (no
// layout shift while it loads), lazy unless it is among the first things on screen.
import type { HomeItem } from "../home/home-rows.ts";

/** The demo artwork is 200×300 SVG (2:3); CSS scales the card, the ratio stays. */
export const POSTER_WIDTH = 200;
export const POSTER_HEIGHT = 300;

/** A neutral 2:3 poster for titles without artwork; the card's caption names the title. */
const NO_POSTER =
  "data:image/svg+xml," +
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 300"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2a2a33"/><stop offset="1" stop-color="#141419"/></linearGradient></defs><rect width="200" height="300" fill="url(#g)"/><path d="M70 120h60v60H70z" fill="none" stroke="#4a4a57" stroke-width="6"/></svg>`,
  );

/** Artwork is ours and same-origin (/artwork/…); anything else falls back to the neutral poster. */
export function posterSrc(path: string | null | undefined): string {
  return path && /^\/[A-Za-z0-9._~\-/]+$/.test(path) && !path.includes("..") ? path : NO_POSTER;
}

export type CardTitle = Pick<HomeItem, "id" | "name" | "posterPath"> & Partial<Pick<HomeItem, "rank" | "progress" | "releaseYear" | "maturityRating" | "kind">>;

function percent(fraction: number): number {
  return Math.round(Math.max(0, Math.min(1, fraction)) * 100);
}

export function PosterCard(props: { title: CardTitle; eager?: boolean; showName?: boolean }) {
  const t = props.title;
  const progress = t.progress;
  const episode = progress?.episode;
  const caption = episode ? `S${episode.seasonNumber}:E${episode.number} ${episode.name}`.trim() : props.showName || !t.posterPath ? t.name : null;
  return (
    <a class={t.rank ? "card card-ranked" : "card"} href={`/title/${encodeURIComponent(t.id)}`} data-title-id={t.id}>
      {t.rank ? (
        <span class={t.rank >= 10 ? "card-rank card-rank-wide" : "card-rank"} aria-hidden="true">
          {t.rank}
        </span>
      ) : null}
      <img
        class="poster"
        src={posterSrc(t.posterPath)}
        width={POSTER_WIDTH}
        height={POSTER_HEIGHT}
        alt={t.name}
        loading={props.eager ? "eager" : "lazy"}
        decoding="async"
        {...(props.eager ? { fetchpriority: "high" } : {})}
      />
      {progress ? (
        <progress class="watch-progress" value={Math.round(progress.positionSec)} max={Math.max(1, Math.round(progress.durationSec))} aria-label={`${percent(progress.fraction)}% watched`}>
          {percent(progress.fraction)}%
        </progress>
      ) : null}
      {caption ? <span class="card-caption">{caption}</span> : null}
    </a>
  );
}
