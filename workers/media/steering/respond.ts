// The steering server's answer: HLS Content Steering's steering manifest (RFC 8216bis
// §7.2: VERSION, TTL, PATHWAY-PRIORITY) or DASH-IF Content Steering's DCSM (DASH-IF CTS
// 001: the same with SERVICE-LOCATION-PRIORITY). The DCSM carries PATHWAY-PRIORITY too:
// Shaka Player (5.2) reads only that key for DASH as well, and clients ignore keys they do
// not know. RELOAD-URI is left out: the player asks the same URI again.
import type { SteeringManifest } from "../../../lib/hls-start.ts";
import type { SteeringChoice } from "./choose.ts";

/** The HLS steering manifest, also what the start bundle carries (lib/hls-start.ts). */
export function hlsSteeringManifest(choice: SteeringChoice): SteeringManifest {
  return { VERSION: 1, TTL: choice.ttlSeconds, "PATHWAY-PRIORITY": choice.priority };
}

export function steeringBody(format: "hls" | "dash", choice: SteeringChoice): Record<string, unknown> {
  if (format === "hls") return hlsSteeringManifest(choice);
  return { VERSION: 1, TTL: choice.ttlSeconds, "SERVICE-LOCATION-PRIORITY": choice.priority, "PATHWAY-PRIORITY": choice.priority };
}

export function steeringResponse(format: "hls" | "dash", choice: SteeringChoice): Response {
  // Per viewer (country) and per moment (health): never kept by a cache.
  return Response.json(steeringBody(format, choice), { headers: { "Cache-Control": "no-store" } });
}
