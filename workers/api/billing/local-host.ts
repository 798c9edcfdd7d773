// Whether a request is addressed to this machine: the dev billing provider (free plans at a click) works only there.

/**
 * Cloudflare routes a request to a Worker by its hostname, and no deployed route or
 * workers.dev name can be localhost, so in production this is false whatever the client
 * sends; `wrangler dev` is reached on exactly these names. Dev billing left switched on
 * by mistake in production therefore refuses instead of handing out plans.
 */
export function isLocalHostname(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");
}
