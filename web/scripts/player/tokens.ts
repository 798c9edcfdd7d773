// Playback tokens live in the media URLs' path (`…/p/{token}/{asset}/…`, or a replica pathway's
// `…/p2/{token}/…`, docs/media-origin.md). Each heartbeat
// hands out a fresh one; every later request (playlists, segments, subtitles, thumbnails)
// must use the newest, so URLs resolved from the first playlist are re-pointed at it.

const TOKEN_IN_PATH = /^((?:https?:\/\/[^/]+)?\/p[2-9]?\/)([^/]+)(\/)/;

/** The token in a media URL, or null for a URL that is not a media URL. */
export function tokenOf(url: string): string | null {
  return TOKEN_IN_PATH.exec(url)?.[2] ?? null;
}

/** The URL with its token replaced by `token` (unchanged when it has none, or `token` is null). */
export function withToken(url: string, token: string | null): string {
  if (token === null) return url;
  return url.replace(TOKEN_IN_PATH, (_all, head: string, _old: string, tail: string) => `${head}${token}${tail}`);
}

/** The newest token of a stream, and when it expires. */
export class TokenHolder {
  token: string | null;
  expiresAtMs: number;

  constructor(hlsUrl: string, expiresAt: string) {
    this.token = tokenOf(hlsUrl);
    this.expiresAtMs = Date.parse(expiresAt);
  }

  update(hlsUrl: string, expiresAt: string): void {
    const token = tokenOf(hlsUrl);
    if (token === null) return;
    this.token = token;
    this.expiresAtMs = Date.parse(expiresAt);
  }

  rewrite(url: string): string {
    return withToken(url, this.token);
  }
}
