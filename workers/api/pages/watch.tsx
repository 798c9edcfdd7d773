// The watch page: a document shell the player script (web/scripts/player.ts) fills in.
// Everything the script needs comes from meta tags and data-* attributes (no inline script
// or style: the page's CSP has no 'unsafe-inline'). Ids and attributes are the contract of
// docs/web-app.md ("The player"); browser tests drive them.
import manifest from "../../../web/dist/manifest.json";
import { SiteIconLink } from "./icons.tsx";

export type WatchPageProps = {
  titleId: string;
  episodeId: string | null;
  csrfToken: string;
  profileId: string | null;
};

/** Small inline icons (SVG markup is not a style attribute: allowed by the CSP). */
function Icon(props: { name: string; path: string }) {
  return (
    <svg class={`icon icon-${props.name}`} viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      <path d={props.path} fill="currentColor" />
    </svg>
  );
}

const icons = {
  play: "M8 5v14l11-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  back10: "M12 5V1L7 6l5 5V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z",
  forward10: "M12 5V1l5 5-5 5V7a6 6 0 1 0 6 6h2a8 8 0 1 1-8-8z",
  volume: "M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z",
  muted: "M3 9v6h4l5 5V4L7 9H3zm13.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z",
  fullscreen: "M5 5h5V3H3v7h2zm9-2v2h5v5h2V3zm5 16h-5v2h7v-7h-2zM5 14H3v7h7v-2H5z",
};

export function WatchPage(props: WatchPageProps) {
  const back = `/title/${encodeURIComponent(props.titleId)}`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Watch · Marquee</title>
        <meta name="csrf-token" content={props.csrfToken} />
        {props.profileId !== null && <meta name="profile-id" content={props.profileId} />}
        <meta name="robots" content="noindex" />
        <SiteIconLink />
        <link rel="stylesheet" href={manifest["app.css"]} />
        <link rel="stylesheet" href={manifest["player.css"]} />
        {/* The player alone: nothing of app.js is on this page (player.ts sets the `js` class itself). */}
        <script type="module" src={manifest["player.js"]}></script>
        {/* hls.js's own bundle: imported by the player after the first frame (docs/qoe.md, "Start faster"). */}
        <meta name="player-hls-script" content={manifest["player-hls.js"]} />
        {/* Watch together's own bundle: imported by the player only in a party (docs/watch-party.md). */}
        <meta name="party-script" content={manifest["party.js"]} />
      </head>
      <body class="watch-body">
        <main id="main" class="watch-page" data-title-id={props.titleId} data-episode-id={props.episodeId ?? undefined}>
          <div id="player-shell" class="player-shell" data-paused="" data-controls="shown">
            <video id="player" class="player-video" playsinline preload="auto"></video>

            <div class="player-top">
              <a class="player-back" href={back} aria-label="Back to the title">
                ←
              </a>
              <h1 id="player-title" class="player-title"></h1>
              {/* Starts a watch party for what is playing (web/scripts/party.ts, loaded only then). */}
              <button id="watch-together" class="player-watch-together" type="button">
                Watch together
              </button>
            </div>

            <p id="player-status" class="player-status" data-state="loading" role="status" aria-live="polite">
              Loading…
            </p>

            <section id="player-error" class="player-error" data-code="" role="alert" hidden>
              <h2 class="player-error-title"></h2>
              <p class="player-error-message"></p>
              <div class="player-error-body"></div>
            </section>

            {/* Skip intro / Skip recap (web/scripts/player/skip-segments.ts): over the picture, shown even while the controls hide. */}
            <button id="skip-segment" class="skip-segment" type="button" aria-label="Skip intro" hidden>
              Skip intro
            </button>
            <p id="skip-toast" class="skip-toast" role="status" aria-live="polite" hidden></p>

            <div id="next-up" class="next-up" hidden>
              <a id="next-episode" class="next-episode" href="" hidden>
                <span class="next-episode-label">Next episode</span>
                <span id="next-episode-name" class="next-episode-name"></span>
                <span class="next-episode-countdown">
                  in <span id="next-episode-countdown">10</span> s
                </span>
              </a>
              <button id="next-episode-cancel" class="next-episode-cancel" type="button">
                Cancel
              </button>
            </div>

            <div id="controls" class="controls">
              <div class="seek-row">
                <div class="seek-wrap">
                  <input id="seek" class="seek" type="range" min="0" max="0" step="0.1" value="0" aria-label="Seek" />
                  <div id="trickplay" class="trickplay" hidden>
                    <div id="trickplay-image" class="trickplay-image"></div>
                    <span id="trickplay-time" class="trickplay-time"></span>
                  </div>
                </div>
                <span id="time" class="time">
                  0:00 / 0:00
                </span>
              </div>
              <div class="control-row">
                <button id="play-pause" class="control play-pause" type="button" aria-label="Play">
                  <Icon name="play" path={icons.play} />
                  <Icon name="pause" path={icons.pause} />
                </button>
                <button id="back-10" class="control" type="button" aria-label="Back 10 seconds">
                  <Icon name="back10" path={icons.back10} />
                </button>
                <button id="forward-10" class="control" type="button" aria-label="Forward 10 seconds">
                  <Icon name="forward10" path={icons.forward10} />
                </button>
                <button id="mute" class="control mute" type="button" aria-label="Mute" aria-pressed="false">
                  <Icon name="volume" path={icons.volume} />
                  <Icon name="muted" path={icons.muted} />
                </button>
                <span class="control-spacer"></span>
                <span id="rendition" class="rendition" aria-label="Playing rendition"></span>
                <label class="control-select">
                  <span class="control-select-label">Quality</span>
                  <select id="quality" name="quality">
                    <option value="auto">Auto</option>
                  </select>
                </label>
                <label class="control-select">
                  <span class="control-select-label">Subtitles</span>
                  <select id="subtitles" name="subtitles">
                    <option value="off">Off</option>
                  </select>
                </label>
                <button id="fullscreen" class="control" type="button" aria-label="Full screen">
                  <Icon name="fullscreen" path={icons.fullscreen} />
                </button>
              </div>
            </div>
            <noscript>
              <p class="player-noscript">The player needs JavaScript.</p>
            </noscript>
          </div>
        </main>
      </body>
    </html>
  );
}
