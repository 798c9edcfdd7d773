// The home page of an entered profile: a billboard of the top title, then the rows of
// homePage() as horizontally scrolling poster rows (arrow keys move between cards, see
// web/scripts/app/rows.ts), or a notice when the rows cannot be read.
import type { HomePage as HomeRows } from "../home/home-page.ts";
import type { HomeRow } from "../home/home-rows.ts";
import { POSTER_HEIGHT, POSTER_WIDTH, PosterCard, posterSrc } from "./cards.tsx";
import { Layout } from "./layout.tsx";
import type { PageSession } from "./page-types.ts";

/** Cards of the first row that load at once: about a wide screen's worth. */
const EAGER_CARDS = 7;

function Row(props: { row: HomeRow; first: boolean }) {
  const { row } = props;
  const headingId = `row-${row.id}-heading`;
  return (
    <section class="row" data-row-id={row.id} aria-labelledby={headingId}>
      <h2 id={headingId}>{row.heading}</h2>
      <ul class="row-items" role="list">
        {row.items.map((item, i) => (
          <li>
            <PosterCard title={item} eager={props.first && i < EAGER_CARDS} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Billboard(props: { row: HomeRow }) {
  const top = props.row.items[0];
  if (!top) return null;
  return (
    <section class="billboard" aria-labelledby="billboard-heading">
      <img class="billboard-art" src={posterSrc(top.posterPath)} width={POSTER_WIDTH} height={POSTER_HEIGHT} alt="" fetchpriority="high" />
      <img class="billboard-poster" src={posterSrc(top.posterPath)} width={POSTER_WIDTH} height={POSTER_HEIGHT} alt="" />
      <div class="billboard-text">
        <p class="billboard-kicker">{top.rank ? `#${top.rank} · ${props.row.heading}` : props.row.heading}</p>
        <h1 id="billboard-heading">{top.name}</h1>
        <p class="billboard-facts">{[String(top.releaseYear), top.maturityRating, top.kind === "series" ? "Series" : "Film"].join(" · ")}</p>
        <p class="billboard-actions">
          <a class="button button-primary button-play" href={`/watch/${encodeURIComponent(top.id)}`}>
            Play
          </a>
          <a class="button button-quiet" href={`/title/${encodeURIComponent(top.id)}`}>
            More info
          </a>
        </p>
      </div>
    </section>
  );
}

export function HomePage(props: { session: PageSession; home: HomeRows; checkout?: "success" | null }) {
  const { rows, degraded } = props.home;
  // A live event on now is what the billboard shows first: it will not be there later.
  const featured = rows.find((r) => r.id === "live-now") ?? rows.find((r) => r.id === "top-10") ?? rows.find((r) => r.id !== "continue-watching") ?? rows[0];
  return (
    <Layout title="Marquee" session={props.session} section="home" bodyClass="page-home">
      {props.checkout === "success" ? (
        <p class="banner" role="status">
          Your plan is active. Enjoy watching.
        </p>
      ) : null}
      {featured ? <Billboard row={featured} /> : <h1 class="visually-hidden">Home</h1>}
      {degraded.includes("unavailable") ? (
        <p class="notice" role="status">
          Your rows are unavailable right now. Try again in a moment.
        </p>
      ) : degraded.includes("stale") || degraded.includes("popular") ? (
        <p class="notice" role="status">
          Some rows may be out of date while we reconnect.
        </p>
      ) : null}
      {rows.length === 0 && !degraded.includes("unavailable") ? <p class="notice">Nothing to watch yet: the catalog is empty. Run `npm run seed` to load the demo catalog.</p> : null}
      <div class="rows">
        {rows.map((row, i) => (
          <Row row={row} first={i === 0} />
        ))}
      </div>
    </Layout>
  );
}
