// The first page: the catalog as cards, or a plain notice when it cannot be read.
import type { TitleCard } from "../catalog/list-titles.ts";
import { Layout } from "./layout.tsx";

function formatRuntime(seconds: number | null): string | null {
  if (seconds === null) return null;
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
}

function Card(props: { title: TitleCard }) {
  const t = props.title;
  const facts = [String(t.releaseYear), t.maturityRating, formatRuntime(t.runtimeSec), t.kind === "series" ? "Series" : null];
  return (
    <li class="card" data-title-id={t.id}>
      <h3>{t.name}</h3>
      <p class="facts">{facts.filter(Boolean).join(" · ")}</p>
      <p class="genres">{t.genres.join(", ")}</p>
      <p class="synopsis">{t.synopsis}</p>
    </li>
  );
}

export function HomePage(props: { titles: TitleCard[] | null }) {
  return (
    <Layout title="Marquee">
      <section aria-labelledby="catalog-heading">
        <h2 id="catalog-heading">The catalog</h2>
        {props.titles === null ? (
          <p class="notice" role="status">
            The catalog is unavailable right now. Try again in a moment.
          </p>
        ) : props.titles.length === 0 ? (
          <p class="notice">No titles yet. Run `npm run seed` to load the demo catalog.</p>
        ) : (
          <ul class="cards">
            {props.titles.map((t) => (
              <Card title={t} />
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
}
