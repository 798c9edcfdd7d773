// The steering server's answer: HLS Content Steering's steering manifest (RFC 8216bis
// §7.2: VERSION, TTL, PATHWAY-PRIORITY) or DASH-IF Content Steering's DCSM (the same with
// SERVICE-LOCATION-PRIORITY). RELOAD-URI is left out: the player asks the same URI again.
import type { SteeringChoice } from "./choose.ts";

export function steeringBody(format: "hls" | "dash", choice: SteeringChoice): Record<string, unknown> {
  const list = format === "hls" ? "PATHWAY-PRIORITY" : "SERVICE-LOCATION-PRIORITY";
  return { VERSION: 1, TTL: choice.ttlSeconds, [list]: choice.priority };
}

export function steeringResponse(format: "hls" | "dash", choice: SteeringChoice): Response {
  // Per viewer (country) and per moment (health): never kept by a cache.
  return Response.json(steeringBody(format, choice), { headers: { "Cache-Control": "no-store" } });
}
