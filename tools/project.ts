// Paths and environment shared by the Node tools: where the project is, and the
// variables that keep wrangler off the network.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const apiConfig = path.join(projectRoot, "wrangler.toml");
export const mediaConfig = path.join(projectRoot, "workers/media/wrangler.toml");

/**
 * Wrangler tries to reach Cloudflare for metrics and `cf` data unless told not to. And it
 * appends every line it logs, debug lines and each request's included, to a file of its
 * own under ~/.config/.wrangler/logs (2–3 MB per `npm run dev` session here, 89 MB after
 * two days of tests and benches, and 1–2.5 ms of its CPU per logged request, measured);
 * the console has the same lines. `WRANGLER_WRITE_LOGS=true` brings the file back.
 */
export const offlineEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_WRITE_LOGS: process.env.WRANGLER_WRITE_LOGS ?? "false",
};
