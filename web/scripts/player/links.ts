// Links the player makes (pure: the api's tests import it too).

/** The next episode's watch page; a test's `?heartbeat=` period carries over. */
export function nextEpisodeHref(titleId: string, episodeId: string, search: string): string {
  const params = new URLSearchParams({ episode: episodeId });
  // Tests give the page a heartbeat period: keep it across episodes.
  const heartbeat = new URLSearchParams(search).get("heartbeat");
  if (heartbeat) params.set("heartbeat", heartbeat);
  return `/watch/${encodeURIComponent(titleId)}?${params}`;
}
