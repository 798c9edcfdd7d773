// Playback session (stream) ids: what a lease, its tokens and the player's watch events are keyed by.

/** A new stream id: the client's own id when it sent one (a retried Play answers the same stream), else a random one. */
export function newStreamId(clientSessionId: string | undefined): string {
  if (clientSessionId) return `pbs_${clientSessionId}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `pbs_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
