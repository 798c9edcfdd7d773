// Where the viewer is, from Cloudflare's request metadata: an ISO 3166 alpha-2 code, or
// "XX" when it is unknown (local development, tests, Tor).
export function viewerCountry(request: Request): string {
  const country = (request as Request & { cf?: { country?: unknown } }).cf?.country;
  return typeof country === "string" && /^[A-Z]{2}$/.test(country) ? country : "XX";
}
