// One title's page, as the entered profile may see it: artwork, facts, Play (or Resume),
// My List and thumbs (web/scripts/app/title-actions.ts calls the profile's list and
// ratings routes), cast and crew, and each season's episodes.
import type { getTitle } from "../catalog/browse.ts";
import { POSTER_HEIGHT, POSTER_WIDTH, posterSrc } from "./cards.tsx";
import { CheckIcon, PlayIcon, PlusIcon, ThumbDownIcon, ThumbUpIcon } from "./icons.tsx";
import { Layout, pageTitle } from "./layout.tsx";
import type { PageSession } from "./page-types.ts";
import type { TitleState } from "./title-state.ts";

export type TitleDetails = NonNullable<Awaited<ReturnType<typeof getTitle>>>;

export function formatRuntime(seconds: number | null | undefined): string | null {
  if (seconds == null || seconds <= 0) return null;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
}

const watchHref = (titleId: string, episodeId?: string) => `/watch/${encodeURIComponent(titleId)}${episodeId ? `?episode=${encodeURIComponent(episodeId)}` : ""}`;

const pressed = (on: boolean) => (on ? "true" : "false");

function Credits(props: { title: TitleDetails }) {
  const t = props.title;
  const directors = t.crew.filter((c) => c.role === "director" || c.role === "creator");
  return (
    <dl class="title-credits">
      {t.cast.length > 0 ? (
        <>
          <dt>Cast</dt>
          <dd>{t.cast.map((c) => c.name).join(", ")}</dd>
        </>
      ) : null}
      {directors.length > 0 ? (
        <>
          <dt>{t.kind === "series" ? "Created by" : "Director"}</dt>
          <dd>{[...new Set(directors.map((c) => c.name))].join(", ")}</dd>
        </>
      ) : null}
      {t.genres.length > 0 ? (
        <>
          <dt>Genres</dt>
          <dd>{t.genres.map((g) => g.name).join(", ")}</dd>
        </>
      ) : null}
    </dl>
  );
}

function Seasons(props: { title: TitleDetails; state: TitleState }) {
  const t = props.title;
  const resume = props.state.resume;
  if (t.kind !== "series") return null;
  return (
    <section class="seasons" aria-labelledby="episodes-heading">
      <h2 id="episodes-heading">Episodes</h2>
      {t.seasons.length === 0 ? <p class="notice">No episodes yet.</p> : null}
      {t.seasons.map((s) => (
        <section class="season" aria-labelledby={`season-${s.number}-heading`} data-season={String(s.number)}>
          <h3 id={`season-${s.number}-heading`}>{s.name || `Season ${s.number}`}</h3>
          <ol class="episode-list" role="list">
            {s.episodes.map((e) => {
              const here = resume?.episodeId === e.id ? resume : null;
              return (
                <li>
                  <a class={e.playable ? "episode" : "episode episode-unavailable"} data-episode-id={e.id} href={watchHref(t.id, e.id)}>
                    <span class="episode-number" aria-hidden="true">
                      {e.number}
                    </span>
                    <span class="episode-text">
                      <span class="episode-name">
                        <span class="visually-hidden">Episode {e.number}: </span>
                        {e.name}
                      </span>
                      <span class="episode-facts">{[formatRuntime(e.runtimeSec), e.playable ? null : "Coming soon"].filter(Boolean).join(" · ")}</span>
                      {e.synopsis ? <span class="episode-synopsis">{e.synopsis}</span> : null}
                      {here ? (
                        <progress class="watch-progress" value={Math.round(here.positionSec)} max={Math.max(1, Math.round(here.durationSec))} aria-label="Watched so far">
                          {Math.round((here.positionSec / Math.max(1, here.durationSec)) * 100)}%
                        </progress>
                      ) : null}
                    </span>
                  </a>
                </li>
              );
            })}
          </ol>
        </section>
      ))}
    </section>
  );
}

export function TitlePage(props: { session: PageSession; title: TitleDetails; state: TitleState }) {
  const { title: t, state } = props;
  const episodes = t.seasons.flatMap((s) => s.episodes.map((e) => ({ ...e, seasonNumber: s.number })));
  const resumeEpisode = state.resume?.episodeId ? episodes.find((e) => e.id === state.resume!.episodeId) : undefined;
  const facts = [
    String(t.releaseYear),
    t.kind === "series" ? `${t.seasons.length} ${t.seasons.length === 1 ? "season" : "seasons"}` : formatRuntime(t.runtimeSec),
    t.kind === "series" ? "Series" : "Film",
  ].filter((f): f is string => Boolean(f));
  return (
    <Layout title={pageTitle(t.name)} session={props.session} section="title" bodyClass="page-title" prefetch={["player.js", "player-hls.js", "player.css"]}>
      <article class="title-page" aria-labelledby="title-name" data-title-page={t.id}>
        <div class="title-hero">
          <img class="title-backdrop" src={posterSrc(t.posterPath)} width={POSTER_WIDTH} height={POSTER_HEIGHT} alt="" aria-hidden="true" />
          <img class="title-poster" src={posterSrc(t.posterPath)} width={POSTER_WIDTH} height={POSTER_HEIGHT} alt={t.name} fetchpriority="high" />
          <div class="title-info">
            <h1 id="title-name">{t.name}</h1>
            <p class="title-facts">
              <span class="rating-badge">{t.maturityRating}</span>
              {facts.map((f) => (
                <span>{f}</span>
              ))}
            </p>
            <div class="title-actions">
              <a id="play" class="button button-primary button-large button-play" href={watchHref(t.id)} aria-describedby={resumeEpisode ? "play-episode" : undefined}>
                <PlayIcon />
                {state.resume ? "Resume" : "Play"}
              </a>
              {resumeEpisode ? (
                <span class="play-episode" id="play-episode">
                  S{resumeEpisode.seasonNumber}:E{resumeEpisode.number} {resumeEpisode.name}
                </span>
              ) : null}
              {/* A watch party for this title (docs/watch-party.md): the invite link is shown in the player. */}
              <button type="button" id="watch-together" class="button button-quiet" data-title-id={t.id}>
                Watch together
              </button>
              <button type="button" id="my-list" class="button button-quiet toggle" aria-pressed={pressed(state.inList)} data-title-id={t.id}>
                <PlusIcon />
                <CheckIcon />
                My List
              </button>
              <button type="button" id="thumbs-up" class="icon-button toggle" aria-pressed={pressed(state.rating === "up")} aria-label="I like this" title="I like this" data-rating="up">
                <ThumbUpIcon />
              </button>
              <button type="button" id="thumbs-down" class="icon-button toggle" aria-pressed={pressed(state.rating === "down")} aria-label="Not for me" title="Not for me" data-rating="down">
                <ThumbDownIcon />
              </button>
            </div>
            <p class="form-error" role="alert" id="title-error" hidden></p>
            <p class="title-synopsis">{t.synopsis}</p>
            <Credits title={t} />
          </div>
        </div>
        <Seasons title={t} state={state} />
      </article>
    </Layout>
  );
}
