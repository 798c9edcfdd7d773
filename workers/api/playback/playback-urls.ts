// What a player is handed: a playback token for one asset, scoped to the plan's height
// and bounded by the lease, and the media-origin URLs under it (DESIGN.md §2 step 4).
import type { AssetExtras } from "../../../lib/media-index.ts";
import { HLS_START_FILE, hlsStartSchema, type HlsStart, type SteeringManifest } from "../../../lib/hls-start.ts";
import { log } from "../../../lib/log.ts";
import { parsePlaybackKeys, signPlaybackToken, type PlaybackKeys } from "../../../lib/playback-token.ts";
import { tokenExpiry } from "./policy.ts";
import { startBundleKey, startBundlesFor, swapToken } from "./start-bundles.ts";

let keys: { spec: string; parsed: Promise<PlaybackKeys> } | undefined;

/** Parsed once per isolate (and again only if the secret changes). */
export function playbackKeys(spec: string): Promise<PlaybackKeys> {
  if (keys?.spec !== spec) keys = { spec, parsed: parsePlaybackKeys(spec) };
  return keys.parsed;
}

export type MediaGrant = {
  token: string;
  /** ISO time the token stops working: a heartbeat before then hands out the next one. */
  tokenExpiresAt: string;
  hlsUrl: string;
  dashUrl: string;
  /** The folder every other media URL of this stream is relative to. */
  baseUrl: string;
};

type GrantInput = {
  env: { PLAYBACK_TOKEN_KEYS: string; MEDIA_ORIGIN: string };
  requestUrl: string;
  assetId: string;
  accountId: string;
  playbackSessionId: string;
  maxHeight: number;
  leaseExpiresAtMs: number;
  leaseStartedAtMs: number;
};

/** The media origin: MEDIA_ORIGIN, or (when empty) this origin, which forwards `/p/*` to the media Worker. */
export function mediaOrigin(env: { MEDIA_ORIGIN: string }, requestUrl: string): string {
  return (env.MEDIA_ORIGIN || new URL(requestUrl).origin).replace(/\/$/, "");
}

type StreamInput = Omit<GrantInput, "leaseExpiresAtMs" | "leaseStartedAtMs">;

export function grantMedia(input: GrantInput): Promise<MediaGrant> {
  return signedGrant(input, tokenExpiry(input.leaseExpiresAtMs, input.leaseStartedAtMs));
}

/** The token for `input`'s stream, expiring at `expiresAt` (Unix seconds), and the URLs under it. */
async function signedGrant(input: StreamInput, expiresAt: number): Promise<MediaGrant> {
  const token = await signPlaybackToken(
    { assetId: input.assetId, accountId: input.accountId, sessionId: input.playbackSessionId, maxHeight: input.maxHeight, expiresAt },
    await playbackKeys(input.env.PLAYBACK_TOKEN_KEYS),
  );
  const baseUrl = `${mediaOrigin(input.env, input.requestUrl)}/p/${token}/${input.assetId}/`;
  return { token, tokenExpiresAt: new Date(expiresAt * 1000).toISOString(), hlsUrl: `${baseUrl}master.m3u8`, dashUrl: `${baseUrl}manifest.mpd`, baseUrl };
}

/** Subtitle, trick-play and poster URLs under the stream's token. */
export function extrasUrls(baseUrl: string, extras: AssetExtras) {
  return {
    subtitles: extras.subtitles.map((s) => ({ lang: s.lang, name: s.name, default: s.default, url: baseUrl + s.path })),
    trickPlayUrl: extras.thumbnailsVtt === null ? null : baseUrl + extras.thumbnailsVtt,
    posterUrl: extras.poster === null ? null : baseUrl + extras.poster,
  };
}

/** How long a provisional token lives: enough for one start bundle request, never handed out. */
const PROVISIONAL_TOKEN_SEC = 10;

/**
 * A token for the stream a Play is about to take, before its lease is granted: the same
 * stream id, asset, account and height as the lease's token will have, good for
 * PROVISIONAL_TOKEN_SEC. It is used only for the start bundle's request over the service
 * binding, made while the lease is being taken; the lease's own token is swapped into
 * the bundle before anything reaches the player, and a refused Play hands out nothing.
 */
export function provisionalGrant(input: StreamInput, nowMs = Date.now()): Promise<MediaGrant> {
  return signedGrant(input, Math.floor(nowMs / 1000) + PROVISIONAL_TOKEN_SEC);
}

/** How long Play waits for the inline playlists before answering without them. */
const INLINE_PLAYLIST_TIMEOUT_MS = 1000;

export type InlinePlaylist = { url: string; text: string };
/** An init segment's absolute URL and its bytes (unpadded base64url). */
export type InlineInit = { url: string; data: string };
export type Inline = { master: string | null; playlists: InlinePlaylist[]; startVariant: number | null; inits: InlineInit[]; steering: SteeringManifest | null };
export const NO_INLINE: Inline = { master: null, playlists: [], startVariant: null, inits: [], steering: null };

/**
 * The stream's HLS multivariant playlist, where a player starts in it, and the media
 * playlists it starts on: the media Worker's start bundle (lib/hls-start.ts), one request
 * over the service binding (in-process, its index already cached), so a player goes from
 * the Play answer straight to its first segments — two round trips fewer before the first
 * frame — or, within a few seconds of another Play of the same title and height in this
 * isolate, no request at all (./start-bundles.ts). Nothing inline when the media Worker
 * does not answer in time or answers anything but a valid bundle: the player fetches what
 * it was not handed, and nothing else changes.
 *
 * The request goes out now, under `media`'s token; `write` answers the bundle for the
 * token of the grant it is given (the same stream, asset and height: a provisional token
 * swapped for the lease's, see provisionalGrant). `loaded` settles when the request has;
 * neither rejects.
 */
export function startInline(
  env: { MEDIA_WORKER: Fetcher },
  media: Pick<MediaGrant, "hlsUrl" | "token">,
  viewer: { maxHeight: number; country: string },
  requestId: string,
): { loaded: Promise<unknown>; write: (grant: Pick<MediaGrant, "hlsUrl" | "token">) => Promise<Inline> } {
  const failed = (message: string) => {
    log("warn", { event: "dependency_failed", requestId, dependency: "media_worker", message: `inline playlists: ${message}` });
    return null;
  };
  const load = async (): Promise<HlsStart | null> => {
    try {
      const url = new URL(HLS_START_FILE, media.hlsUrl).toString();
      // The viewer's country, as the edge gave it: the steering policy the master starts
      // players on is chosen per country (docs/media-origin.md).
      const init = { headers: { "X-Request-Id": requestId }, signal: AbortSignal.timeout(INLINE_PLAYLIST_TIMEOUT_MS), cf: { country: viewer.country } };
      const res = await env.MEDIA_WORKER.fetch(url, init as RequestInit);
      if (!res.ok) {
        await res.body?.cancel();
        return failed(String(res.status));
      }
      const parsed = hlsStartSchema.safeParse(await res.json());
      return parsed.success ? parsed.data : failed("not a start bundle");
    } catch (err) {
      return failed((err as Error)?.message ?? String(err));
    }
  };
  const bundle = startBundlesFor(env.MEDIA_WORKER)
    .take(startBundleKey(media.hlsUrl, media.token, viewer), media.token, load, INLINE_PLAYLIST_TIMEOUT_MS)
    .catch(() => null);
  const write = async (grant: Pick<MediaGrant, "hlsUrl" | "token">): Promise<Inline> => {
    const b = await bundle;
    if (b === null) return NO_INLINE;
    const mine = grant.token === media.token ? b : swapToken(b, media.token, grant.token);
    const url = (uri: string) => new URL(uri, grant.hlsUrl).toString();
    return {
      master: mine.master,
      playlists: mine.playlists.map((p) => ({ url: url(p.uri), text: p.text })),
      startVariant: mine.startVariant,
      inits: mine.inits.map((i) => ({ url: url(i.uri), data: i.data })),
      steering: mine.steering,
    };
  };
  return { loaded: bundle, write };
}

/** startInline for a grant in hand. */
export function inlinePlaylists(
  env: { MEDIA_WORKER: Fetcher },
  media: Pick<MediaGrant, "hlsUrl" | "token">,
  viewer: { maxHeight: number; country: string },
  requestId: string,
): Promise<Inline> {
  return startInline(env, media, viewer, requestId).write(media);
}
