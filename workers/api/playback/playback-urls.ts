// What a player is handed: a playback token for one asset, scoped to the plan's height
// and bounded by the lease, and the media-origin URLs under it (DESIGN.md §2 step 4).
import type { AssetExtras } from "../../../lib/media-index.ts";
import { log } from "../../../lib/log.ts";
import { parsePlaybackKeys, signPlaybackToken, type PlaybackKeys } from "../../../lib/playback-token.ts";
import { tokenExpiry } from "./policy.ts";

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

export async function grantMedia(input: GrantInput): Promise<MediaGrant> {
  const expiresAt = tokenExpiry(input.leaseExpiresAtMs, input.leaseStartedAtMs);
  const token = await signPlaybackToken(
    { assetId: input.assetId, accountId: input.accountId, sessionId: input.playbackSessionId, maxHeight: input.maxHeight, expiresAt },
    await playbackKeys(input.env.PLAYBACK_TOKEN_KEYS),
  );
  const baseUrl = `${mediaOrigin(input.env, input.requestUrl)}/p/${token}/${input.assetId}/`;
  return {
    token,
    tokenExpiresAt: new Date(expiresAt * 1000).toISOString(),
    hlsUrl: `${baseUrl}master.m3u8`,
    dashUrl: `${baseUrl}manifest.mpd`,
    baseUrl,
  };
}

/** Subtitle, trick-play and poster URLs under the stream's token. */
export function extrasUrls(baseUrl: string, extras: AssetExtras) {
  return {
    subtitles: extras.subtitles.map((s) => ({ lang: s.lang, name: s.name, default: s.default, url: baseUrl + s.path })),
    trickPlayUrl: extras.thumbnailsVtt === null ? null : baseUrl + extras.thumbnailsVtt,
    posterUrl: extras.poster === null ? null : baseUrl + extras.poster,
  };
}

/** How long Play waits for the inline playlists before answering without them. */
const INLINE_PLAYLIST_TIMEOUT_MS = 1000;

async function fetchPlaylist(env: { MEDIA_WORKER: Fetcher }, url: string, requestId: string, what: string): Promise<string | null> {
  try {
    const res = await env.MEDIA_WORKER.fetch(url, { headers: { "X-Request-Id": requestId }, signal: AbortSignal.timeout(INLINE_PLAYLIST_TIMEOUT_MS) });
    // Decoded by hand: the runtime warns about .text() on a body typed as a playlist.
    if (res.ok) return new TextDecoder().decode(await res.arrayBuffer());
    await res.body?.cancel();
    log("warn", { event: "dependency_failed", requestId, dependency: "media_worker", message: `inline ${what}: ${res.status}` });
  } catch (err) {
    log("warn", { event: "dependency_failed", requestId, dependency: "media_worker", message: `inline ${what}: ${(err as Error)?.message ?? String(err)}` });
  }
  return null;
}

/**
 * The media playlists a player starts on, named in a multivariant playlist: the first
 * variant (where hls.js and Safari start when nothing says otherwise) and the default
 * rendition of its audio group. Relative URIs, as the playlist writes them.
 */
export function startingPlaylists(master: string): string[] {
  const lines = master.split("\n").map((l) => l.trim());
  const at = lines.findIndex((l) => l.startsWith("#EXT-X-STREAM-INF:"));
  if (at < 0) return [];
  const variant = lines.slice(at + 1).find((l) => l !== "" && !l.startsWith("#"));
  const group = /AUDIO="([^"]{1,64})"/.exec(lines[at]!)?.[1];
  const audio = group
    ? lines.find((l) => l.startsWith("#EXT-X-MEDIA:") && l.includes("TYPE=AUDIO") && l.includes(`GROUP-ID="${group}"`) && l.includes("DEFAULT=YES"))
    : undefined;
  const audioUri = audio ? /URI="([^"]{1,256})"/.exec(audio)?.[1] : undefined;
  return [variant, audioUri].filter((u): u is string => u !== undefined);
}

export type InlinePlaylist = { url: string; text: string };

/**
 * The stream's HLS multivariant playlist and the media playlists a player starts on,
 * fetched from the media Worker over the service binding (in-process, its index already
 * cached), so a player goes from the Play answer straight to its first segments: two
 * round trips fewer before the first frame. The master is null when the media Worker does
 * not answer in time, and a media playlist that does not come is simply left out: the
 * player fetches what it was not handed, and nothing else changes.
 */
export async function inlinePlaylists(env: { MEDIA_WORKER: Fetcher }, hlsUrl: string, requestId: string): Promise<{ master: string | null; playlists: InlinePlaylist[] }> {
  const master = await fetchPlaylist(env, hlsUrl, requestId, "master playlist");
  if (master === null) return { master, playlists: [] };
  const urls = startingPlaylists(master).map((uri) => new URL(uri, hlsUrl).toString());
  const texts = await Promise.all(urls.map((url) => fetchPlaylist(env, url, requestId, "media playlist")));
  return { master, playlists: urls.flatMap((url, i) => (texts[i] === null ? [] : [{ url, text: texts[i]! }])) };
}
