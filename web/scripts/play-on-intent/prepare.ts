// Play on intent (docs/web-app.md): on the title page, the moment the viewer shows they are
// about to press Play — the pointer rests on it, it takes the keyboard focus, a finger
// touches it — the stream is started with `prepared: true`, so its Play answer (lease,
// token, the playlists) is in hand when the press comes and the watch page needs no POST
// before its first segments. A prepared lease lives 20 s on the server unless the press
// confirms it; one never pressed is ended here after PREPARED_USE_MS, or when the page goes.
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import { api, meta } from "../app/api.ts";
import { newId } from "../player/format.ts";
import { initsInHand, startPosition, startRequests } from "../player/prefetch.ts";
import { leaveHandoff, type Handoff } from "./handoff.ts";

/** A pointer that only passes over Play does not start anything: it must rest this long. */
const HOVER_MS = 65;
/** A prepared stream not pressed within this long is ended (and prepared again on the next intent). */
const PREPARED_USE_MS = 10_000;

/**
 * The first segments the watch page will fetch for this answer (player/prefetch.ts), fetched
 * now into the browser's HTTP cache: they are immutable (`Cache-Control: public, immutable`)
 * and the watch page asks for the very same URLs, so its requests are cache hits. Only where
 * the player will use MSE (native HLS fetches for itself), and only what the player starts
 * with: the init and first segment of the start variant and of its audio, less the init
 * segments the answer carries.
 */
function warmStartSegments(session: StartedPlayback): void {
  if (session.media.hlsStartVariant === null || !("MediaSource" in window || "ManagedMediaSource" in window)) return;
  // The init segments the answer carries need no request (the watch page takes them from it).
  const inHand = new Set(initsInHand(session.media.hlsInitSegments).keys());
  for (const { request } of startRequests(session.media.hlsPlaylists, startPosition(session, false), (url) => url, { sid: session.id, cid: session.titleId }, inHand)) {
    void fetch(request, { credentials: "same-origin" })
      .then((res) => res.arrayBuffer())
      .catch(() => undefined);
  }
}

type Prepared = { handoff: Handoff; answer: Promise<StartedPlayback | null>; timer: ReturnType<typeof setTimeout> };

export function initPlayOnIntent(): void {
  const play = document.querySelector<HTMLAnchorElement>("a#play");
  const profileId = meta("profile-id");
  if (!play || !profileId) return;
  const target = new URL(play.href, location.href);
  // Play that leads elsewhere (to the plans, say) has no stream to prepare.
  if (target.origin !== location.origin || !target.pathname.startsWith("/watch/")) return;
  const titleId = decodeURIComponent(target.pathname.replace(/^\/watch\//, ""));
  const episodeId = target.searchParams.get("episode");
  let prepared: Prepared | null = null;
  let handedOver = false;
  /** Refused once (no screen free, no plan…): not asked again from this page. */
  let refused = false;
  let hover: ReturnType<typeof setTimeout> | undefined;

  function prepare(): void {
    if (prepared || handedOver || refused) return;
    const handoff: Handoff = { v: 1, titleId, episodeId, profileId: profileId!, clientSessionId: newId(), sentAt: Date.now(), session: null };
    const body = { titleId, ...(episodeId ? { episodeId } : {}), profileId, clientSessionId: handoff.clientSessionId, prepared: true };
    const answer = api<StartedPlayback>("POST", "/v1/playback/sessions", body).then((a) => {
      if (!a.ok) {
        // The watch page asks again and shows why (or, after a network failure, starts by itself).
        refused = a.status !== 0;
        if (prepared?.handoff === handoff) forget();
        return null;
      }
      // Not written to the handoff once pressed: the watch page then asks with the same
      // clientSessionId, and the server answers this stream.
      if (!handedOver) {
        handoff.session = a.data;
        warmStartSegments(a.data);
      }
      return a.data;
    });
    prepared = { handoff, answer, timer: setTimeout(() => void release(), PREPARED_USE_MS) };
  }

  function forget(): void {
    if (prepared) clearTimeout(prepared.timer);
    prepared = null;
  }

  /** Not pressed: the screen goes back at once rather than when the short lease runs out. */
  async function release(keepalive = false): Promise<void> {
    const was = prepared;
    forget();
    if (!was || handedOver) return;
    const session = await Promise.race([was.answer, new Promise<null>((r) => setTimeout(() => r(null), keepalive ? 0 : 5000))]);
    if (!session) return;
    const csrf = meta("csrf-token") ?? "";
    void fetch(`/v1/playback/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE", headers: { "x-csrf-token": csrf }, credentials: "same-origin", keepalive }).catch(() => undefined);
  }

  play.addEventListener("pointerenter", (e) => {
    if (e.pointerType === "mouse") hover = setTimeout(prepare, HOVER_MS);
  });
  play.addEventListener("pointerleave", () => clearTimeout(hover));
  play.addEventListener("pointerdown", prepare);
  play.addEventListener("touchstart", prepare, { passive: true });
  play.addEventListener("focus", prepare);
  play.addEventListener("click", (e) => {
    // A plain press only: a new tab or window does not share this tab's sessionStorage.
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || !prepared) return;
    handedOver = true;
    clearTimeout(prepared.timer);
    leaveHandoff(prepared.handoff);
  });
  addEventListener("pagehide", () => void release(true));
  // Back from the watch page (the back/forward cache keeps this page as it was): start afresh.
  addEventListener("pageshow", (e) => {
    if (!e.persisted) return;
    handedOver = false;
    prepared = null;
  });
}
