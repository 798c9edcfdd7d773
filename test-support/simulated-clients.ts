// A client address of its own for each simulated person, for tests and local load tools.
//
// Sign-up and sign-in are throttled per client (workers/api/auth/throttle-limits.ts), and a
// test file or a benchmark plays more people than one client may be. Addresses come from
// 198.18.0.0/15, the range set aside for benchmarking (RFC 2544). Locally (Miniflare, the
// tests) the CF-Connecting-IP a request brings is kept; on Cloudflare the edge sets it
// from the real connection, so no client can choose its own.
export function simulatedClientAddress(n: number): string {
  return `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
}

/** The header that makes request `n` come from simulated client `n`. */
export function simulatedClient(n: number): { "CF-Connecting-IP": string } {
  return { "CF-Connecting-IP": simulatedClientAddress(n) };
}
