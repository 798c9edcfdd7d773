// Search: a plain GET form (results rendered here for ?q=), which
// web/scripts/app/search.ts turns into search-as-you-type against GET /v1/search.
import type { SearchHit } from "../catalog/search.ts";
import { PosterCard, posterSrc } from "./cards.tsx";
import { Layout, pageTitle } from "./layout.tsx";
import type { PageSession } from "./page-types.ts";

export const SEARCH_LIMIT = 30;
/** What GET /v1/search accepts. */
export const MAX_QUERY = 100;

export function searchStatus(q: string, count: number): string {
  if (!q) return "Find films and series by title, story, cast or crew.";
  if (count === 0) return `No titles match “${q}”.`;
  return `${count} ${count === 1 ? "title matches" : "titles match"} “${q}”.`;
}

export function SearchPage(props: { session: PageSession; q: string; results: SearchHit[] | null }) {
  const { q, results } = props;
  return (
    <Layout title={pageTitle(q ? `Search: ${q}` : "Search")} session={props.session} section="search" bodyClass="page-search">
      <h1 class="visually-hidden">Search</h1>
      <form class="search-form" role="search" method="get" action="/search" id="search-form">
        <label for="search" class="search-label">
          Search titles, people, genres
        </label>
        <input id="search" name="q" type="search" value={q} maxlength={MAX_QUERY} autocomplete="off" spellcheck={false} placeholder="Titles, people, genres" aria-describedby="search-status" aria-controls="search-results" autofocus />
      </form>
      <p id="search-status" class="search-status" role="status" aria-live="polite">
        {results === null ? "Search is unavailable right now. Try again in a moment." : searchStatus(q, results.length)}
      </p>
      <ul id="search-results" class="card-grid" role="list" data-limit={String(SEARCH_LIMIT)} data-no-poster={posterSrc(null)}>
        {(results ?? []).map((hit, i) => (
          <li>
            <PosterCard title={hit} eager={i < 6} />
          </li>
        ))}
      </ul>
    </Layout>
  );
}
