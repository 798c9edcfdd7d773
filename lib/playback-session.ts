// What `POST /v1/playback/sessions` answers (201), as players read it: the web player, the
// browser tests and the api's own tests share this one description of the contract
// (the route's zod schema in workers/api/playback/routes.ts documents it in OpenAPI).

import type { SteeringManifest } from "./hls-start.ts";
import type { VisibleSkipSegment } from "./skip-segments.ts";

export type StartedPlayback = {
  id: string;
  titleId: string;
  episodeId: string | null;
  assetId: string;
  title: string;
  /** 0 while `live`. */
  durationSec: number;
  /** A live event on now: play from its live edge (hls.js live sync), with its DVR window behind. */
  live: boolean;
  media: { hlsUrl: string; dashUrl: string; tokenExpiresAt: string; maxHeight: number; hlsMaster: string | null; hlsPlaylists: { url: string; text: string }[]; hlsStartVariant: number | null; hlsInitSegments: { url: string; data: string }[]; hlsSteering: SteeringManifest | null };
  resume: { positionSec: number };
  heartbeat: { url: string; intervalSec: number };
  lease: { expiresAt: string; ttlSec: number };
  trickPlayUrl: string | null;
  posterUrl: string | null;
  subtitles: { lang: string; name: string; default: boolean; url: string }[];
  nextEpisode: { id: string; seasonNumber: number; number: number; name: string } | null;
  /** Intro, recap and credits to offer a skip for, in time order (lib/skip-segments.ts). */
  skipSegments: VisibleSkipSegment[];
  /** The profile's "skip intros automatically" (intros and recaps; never credits). */
  autoSkip: boolean;
};
