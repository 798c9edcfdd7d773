// Pages that say something went wrong, in the site's layout: not found, unavailable (a
// dependency failed), and the last-resort error page.
import type { Child } from "hono/jsx";
import { Layout, pageTitle } from "./layout.tsx";
import type { PageSession } from "./page-types.ts";

export function NoticePage(props: { session: PageSession; title: string; heading: string; children: Child }) {
  return (
    <Layout title={pageTitle(props.title)} session={props.session}>
      <section class="notice-page" aria-labelledby="notice-heading">
        <h1 id="notice-heading">{props.heading}</h1>
        {props.children}
      </section>
    </Layout>
  );
}

export function NotFoundPage(props: { session: PageSession; what?: string }) {
  return (
    <NoticePage session={props.session} title="Not found" heading={props.what === "title" ? "We couldn't find that title" : "We couldn't find that page"}>
      <p>It may have left the catalog, or the link may be mistyped.</p>
      <p class="notice-actions">
        <a class="button button-primary" href="/">
          Go home
        </a>
        {props.session.member?.profile ? (
          <a class="button button-quiet" href="/search">
            Search the catalog
          </a>
        ) : null}
      </p>
    </NoticePage>
  );
}

export function UnavailablePage(props: { session: PageSession }) {
  return (
    <NoticePage session={props.session} title="Unavailable" heading="Marquee is having trouble right now">
      <p class="notice" role="status">
        We could not reach part of the service. Your account and your place in every title are safe. Try again in a moment.
      </p>
      <p class="notice-actions">
        <a class="button button-primary" href="">
          Try again
        </a>
      </p>
    </NoticePage>
  );
}

export function ErrorPage(props: { session: PageSession; requestId: string }) {
  return (
    <NoticePage session={props.session} title="Something went wrong" heading="Something went wrong on our side">
      <p>Try again in a moment. If it keeps happening, quote this reference: {props.requestId || "unknown"}.</p>
      <p class="notice-actions">
        <a class="button button-primary" href="/">
          Go home
        </a>
      </p>
    </NoticePage>
  );
}
