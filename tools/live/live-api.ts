// The admin API's live-event routes, typed, on top of the ingest tool's AdminApi client.
import type { AdminApi } from "../ingest/admin-api.ts";
import type { Rung } from "./ffmpeg-command.ts";

export type LiveState = "waiting" | "live" | "ended";

export type LiveEvent = {
  liveId: string;
  titleId: string;
  assetId: string;
  state: LiveState;
  ladder: Rung[];
  /** `baseUrl` ends with "/"; renditions go under it by name. */
  ingest: { baseUrl: string; token: string };
};

export type LiveStatus = {
  liveId: string;
  titleId: string;
  assetId: string;
  name: string;
  state: LiveState;
  lastSegmentAt: string | null;
  segments: number;
  ingestBitrateKbps: number | null;
  /** Its shape is the server's business; shown, never relied on. */
  errors: unknown;
};

export function createLive(api: AdminApi, body: { name: string; titleId?: string; ladder?: Rung[] }): Promise<LiveEvent> {
  return api.request<LiveEvent>("POST", "/v1/admin/live", { json: body });
}

export function endLive(api: AdminApi, liveId: string): Promise<LiveStatus> {
  return api.request<LiveStatus>("DELETE", `/v1/admin/live/${encodeURIComponent(liveId)}`);
}

export function liveStatus(api: AdminApi, liveId: string): Promise<LiveStatus> {
  return api.request<LiveStatus>("GET", `/v1/admin/live/${encodeURIComponent(liveId)}`);
}

export function statusUrl(api: AdminApi, liveId: string): string {
  return `${api.base}/v1/admin/live/${encodeURIComponent(liveId)}`;
}

/**
 * Until the event's segment count has not moved for a second (at most 6 s): ffmpeg exits
 * without waiting for the answers to its last PUTs, so they may still be landing.
 */
export async function uploadsLanded(api: AdminApi, liveId: string): Promise<void> {
  let last = -1;
  let still = 0;
  for (let i = 0; i < 24 && still < 4; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const segments = await liveStatus(api, liveId).then((s) => s.segments, () => last);
    still = segments === last ? still + 1 : 0;
    last = segments;
  }
}
