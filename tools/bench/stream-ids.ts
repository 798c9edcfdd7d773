// The stream ids Play would hand a player, minted by a benchmark that plays many viewers
// and titles without pressing Play for each: it holds the local .dev.vars secret, as the
// api does, so what it sends passes POST /v1/events' check like a real player's.
import { parsePlaybackKeys } from "../../lib/playback-token.ts";
import { newStreamId, type StreamScope } from "../../workers/api/playback/stream-ids.ts";
import { readDevVar } from "../dev-vars.ts";

export async function localStreamIds(): Promise<(scope: StreamScope) => Promise<string>> {
  const keys = await parsePlaybackKeys(await readDevVar("PLAYBACK_TOKEN_KEYS"));
  const made = new Map<string, Promise<string>>();
  return (scope) => {
    const key = JSON.stringify(scope);
    let id = made.get(key);
    if (!id) made.set(key, (id = newStreamId(keys, scope, { deviceSessionId: "bench", clientSessionId: undefined })));
    return id;
  };
}
