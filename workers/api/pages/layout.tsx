// The HTML shell of every server-rendered page, linking the content-hashed web assets.
import type { Child } from "hono/jsx";
import manifest from "../../../web/dist/manifest.json";

export function Layout(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={manifest["app.css"]} />
        <script type="module" src={manifest["app.js"]}></script>
      </head>
      <body>
        <header class="site-header">
          <a class="brand" href="/">
            Marquee
          </a>
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
