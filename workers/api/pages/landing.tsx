// The signed-out front page: what Marquee is, a wall of what is on it, and the way in.
import { plans } from "../../../lib/plans.ts";
import { POSTER_HEIGHT, POSTER_WIDTH, posterSrc } from "./cards.tsx";
import { Layout } from "./layout.tsx";
import type { PageSession } from "./page-types.ts";

export type LandingPoster = { id: string; name: string; posterPath: string | null };

const price = (cents: number) => `$${(cents / 100).toFixed(2)}`;

export function LandingPage(props: { session: PageSession; posters: LandingPoster[] }) {
  const cheapest = Math.min(...plans.map((p) => p.priceCents));
  return (
    <Layout title="Marquee" session={props.session} bodyClass="page-landing">
      <section class="landing-hero" aria-labelledby="landing-heading">
        {props.posters.length > 0 ? (
          <div class="poster-wall" aria-hidden="true">
            {props.posters.map((p, i) => (
              <img src={posterSrc(p.posterPath)} width={POSTER_WIDTH} height={POSTER_HEIGHT} alt="" loading={i < 12 ? "eager" : "lazy"} decoding="async" />
            ))}
          </div>
        ) : null}
        <div class="landing-text">
          <h1 id="landing-heading">Films and series, on every screen.</h1>
          <p class="landing-lead">Start watching in seconds. Plans from {price(cheapest)} a month; change or cancel any time.</p>
          <p class="landing-actions">
            <a class="button button-primary button-large" href="/signup" id="landing-signup">
              Get started
            </a>
            <a class="button button-quiet button-large" href="/login" id="landing-login">
              Sign in
            </a>
          </p>
        </div>
      </section>
      <section class="landing-features" aria-label="Why Marquee">
        <ul role="list">
          <li>
            <h2>Instant playback</h2>
            <p>Video from the network edge closest to you, adapting to your connection as it plays.</p>
          </li>
          <li>
            <h2>A profile for everyone</h2>
            <p>Up to five profiles per account, with kids profiles and optional PINs.</p>
          </li>
          <li>
            <h2>Pick up where you left off</h2>
            <p>Continue Watching follows you from the TV to the phone, and rows learn what you like.</p>
          </li>
        </ul>
      </section>
    </Layout>
  );
}
