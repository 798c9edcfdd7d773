// Paths and environment shared by the Node tools: where the project is, and the
// variables that keep wrangler off the network.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const apiConfig = path.join(projectRoot, "wrangler.toml");
export const mediaConfig = path.join(projectRoot, "workers/media/wrangler.toml");

/** Wrangler tries to reach Cloudflare for metrics and `cf` data unless told not to. */
export const offlineEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
