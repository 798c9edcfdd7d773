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
 * The bandwidth a stream starts at: what hls.js starts on when nothing says otherwise (its
 * 500 kbit/s default estimate × its 0.95 safety factor), so a player told to start on the
 * variant chosen here starts where it would have anyway — with that variant's playlist
 * already in hand. ABR moves up from there within seconds.
 */
export const START_BANDWIDTH_BPS = 475_000;

export type StartingPoint = {
  /** The start variant's index among the variants sorted by height, then bandwidth (hls.js's level order). */
  variant: number;
  /** Relative URIs, as the playlist writes them: the start variant's playlist, and its audio group's default. */
  uris: string[];
};

/**
 * Where a player starts in a multivariant playlist (our own, from the media Worker: one
 * attribute list per line). With content steering, among the variants of the pathway the
 * playlist starts players on (`EXT-X-CONTENT-STEERING`'s PATHWAY-ID): hls.js's levels are
 * that pathway's alone, so the index is into those.
 */
export function startingPoint(master: string): StartingPoint | null {
  const lines = master.split("\n").map((l) => l.trim());
  const steering = lines.find((l) => l.startsWith("#EXT-X-CONTENT-STEERING:"));
  const initial = steering ? /PATHWAY-ID="([^"]{1,64})"/.exec(steering)?.[1] : undefined;
  const variants: { height: number; bandwidth: number; uri: string; audio: string | undefined }[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith("#EXT-X-STREAM-INF:")) return;
    if (initial !== undefined && (/PATHWAY-ID="([^"]{1,64})"/.exec(line)?.[1] ?? ".") !== initial) return;
    const uri = lines.slice(i + 1).find((l) => l !== "" && !l.startsWith("#"));
    if (!uri) return;
    variants.push({
      height: Number(/RESOLUTION=\d{1,5}x(\d{1,5})/.exec(line)?.[1] ?? 0),
      bandwidth: Number(/(?:^|[:,])BANDWIDTH=(\d{1,10})/.exec(line)?.[1] ?? 0),
      uri,
      audio: /AUDIO="([^"]{1,64})"/.exec(line)?.[1],
    });
  });
  if (variants.length === 0) return null;
  variants.sort((a, b) => a.height - b.height || a.bandwidth - b.bandwidth);
  let variant = 0;
  variants.forEach((v, i) => {
    if (v.bandwidth <= START_BANDWIDTH_BPS) variant = i;
  });
  const chosen = variants[variant]!;
  const audio = chosen.audio
    ? lines.find((l) => l.startsWith("#EXT-X-MEDIA:") && l.includes("TYPE=AUDIO") && l.includes(`GROUP-ID="${chosen.audio}"`) && l.includes("DEFAULT=YES"))
    : undefined;
  const audioUri = audio ? /URI="([^"]{1,256})"/.exec(audio)?.[1] : undefined;
  return { variant, uris: [chosen.uri, ...(audioUri ? [audioUri] : [])] };
}

export type InlinePlaylist = { url: string; text: string };

/**
 * The stream's HLS multivariant playlist, where a player starts in it, and the media
 * playlists it starts on,
 * fetched from the media Worker over the service binding (in-process, its index already
 * cached), so a player goes from the Play answer straight to its first segments: two
 * round trips fewer before the first frame. The master is null when the media Worker does
 * not answer in time, and a media playlist that does not come is simply left out: the
 * player fetches what it was not handed, and nothing else changes.
 */
export async function inlinePlaylists(
  env: { MEDIA_WORKER: Fetcher },
  hlsUrl: string,
  requestId: string,
): Promise<{ master: string | null; playlists: InlinePlaylist[]; startVariant: number | null }> {
  const master = await fetchPlaylist(env, hlsUrl, requestId, "master playlist");
  const start = master === null ? null : startingPoint(master);
  if (master === null || start === null) return { master, playlists: [], startVariant: null };
  const urls = start.uris.map((uri) => new URL(uri, hlsUrl).toString());
  const texts = await Promise.all(urls.map((url) => fetchPlaylist(env, url, requestId, "media playlist")));
  return { master, playlists: urls.flatMap((url, i) => (texts[i] === null ? [] : [{ url, text: texts[i]! }])), startVariant: start.variant };
}
