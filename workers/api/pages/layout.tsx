// The HTML shell of every server-rendered page: the content-hashed web assets, the
// member's CSRF token and entered profile as <meta>, a skip link, the site header with
// its navigation and sign-out control, and the page's <main>.
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import manifest from "../../../web/dist/manifest.json";
import { SiteIconLink } from "./icons.tsx";
import type { PageSession } from "./page-types.ts";

export type AssetName = keyof typeof manifest;

/** Where the member is in the site, for aria-current in the header. */
export type Section = "home" | "search" | "account" | "profiles" | "plans" | "login" | "signup" | "title" | "watch";

export type LayoutProps = {
  /** The document title; "Marquee" alone for the home page, else "<title> · Marquee". */
  title: string;
  session: PageSession;
  children: Child;
  section?: Section;
  /** Assets beyond app.css and app.js (the watch page adds the player's). */
  styles?: AssetName[];
  scripts?: AssetName[];
  /**
   * Assets the next page will need, fetched into the HTTP cache while the browser is idle
   * (the title page: the player, so Play does not wait for half a megabyte of script).
   */
  prefetch?: AssetName[];
  /** Attributes of <main> (the watch page puts data-title-id there). */
  mainProps?: Record<string, string | undefined>;
  bodyClass?: string;
  /** A bare header (brand only): the sign-in forms and "Who's watching?". */
  minimalHeader?: boolean;
};

export function Avatar(props: { avatar: string; name: string }) {
  // The avatar id is [a-z0-9-] (the profile schema), so it is safe as a class name.
  return (
    <span class={`avatar avatar-${props.avatar.replace(/^avatar-/, "")}`} aria-hidden="true">
      {[...props.name.trim()][0]?.toUpperCase() ?? "?"}
    </span>
  );
}

function NavLink(props: { href: string; current: boolean; children: Child }) {
  return (
    <li>
      <a href={props.href} aria-current={props.current ? "page" : undefined}>
        {props.children}
      </a>
    </li>
  );
}

function SiteHeader(props: { session: PageSession; section?: Section; minimal?: boolean }) {
  const member = props.session.member;
  const at = (s: Section) => props.section === s;
  return (
    <header class="site-header">
      <a class="brand" href="/" aria-label="Marquee, home">
        Marquee
      </a>
      {member && member.profile && !props.minimal ? (
        <nav class="site-nav" aria-label="Main">
          <ul>
            <NavLink href="/" current={at("home")}>
              Home
            </NavLink>
            <NavLink href="/search" current={at("search")}>
              Search
            </NavLink>
            {member.profile.isKids ? null : (
              <NavLink href="/account" current={at("account")}>
                Account
              </NavLink>
            )}
          </ul>
        </nav>
      ) : null}
      <div class="header-actions">
        {member ? (
          <>
            {member.profile ? (
              <a class="profile-chip" href="/profiles" aria-current={at("profiles") ? "page" : undefined}>
                <Avatar avatar={member.profile.avatar} name={member.profile.name} />
                <span class="profile-chip-name">{member.profile.name}</span>
                <span class="visually-hidden">, switch profile</span>
              </a>
            ) : null}
            {/* Without a script this posts to /logout with the CSRF token; app.js calls POST /v1/auth/logout. */}
            <form id="sign-out-form" class="sign-out-form" method="post" action="/logout">
              <input type="hidden" name="csrf" value={member.csrfToken} />
              <button type="submit" id="sign-out" class="button button-quiet">
                Sign out
              </button>
            </form>
          </>
        ) : (
          <>
            {at("login") ? null : (
              <a class="button button-quiet" href="/login">
                Sign in
              </a>
            )}
            {at("signup") ? null : (
              <a class="button button-primary" href="/signup">
                Sign up
              </a>
            )}
          </>
        )}
      </div>
    </header>
  );
}

export function Layout(props: LayoutProps) {
  const member = props.session.member;
  const styles: AssetName[] = ["app.css", ...(props.styles ?? [])];
  const scripts: AssetName[] = ["app.js", ...(props.scripts ?? [])];
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="dark" />
          <meta name="theme-color" content="#0f0f12" />
          <title>{props.title}</title>
          {member ? <meta name="csrf-token" content={member.csrfToken} /> : null}
          {member?.profile ? <meta name="profile-id" content={member.profile.id} /> : null}
          <SiteIconLink />
          {styles.map((name) => (
            <link rel="stylesheet" href={manifest[name]} />
          ))}
          {scripts.map((name) => (
            <script type="module" src={manifest[name]}></script>
          ))}
          {(props.prefetch ?? []).map((name) => (
            <link rel="prefetch" href={manifest[name]} />
          ))}
        </head>
        <body class={props.bodyClass}>
          <a class="skip-link" href="#main">
            Skip to content
          </a>
          <SiteHeader session={props.session} section={props.section} minimal={props.minimalHeader} />
          <main id="main" tabindex={-1} {...(props.mainProps ?? {})}>
            {props.children}
          </main>
          <footer class="site-footer">
            <p>Marquee — open-source streaming on Cloudflare Workers.</p>
          </footer>
        </body>
      </html>
    </>
  );
}

/** "Sign in · Marquee". */
export const pageTitle = (what: string) => `${what} · Marquee`;
