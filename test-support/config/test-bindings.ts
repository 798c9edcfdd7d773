// What the Workers' vitest configs give the Workers under test: fixed, obviously fake
// secrets and quiet logs (tests never depend on a developer's .dev.vars), and the
// property tests' seed.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const PLAYBACK_TOKEN_KEYS = "test2:dGVzdC1rZXktdHdvLXRlc3Qta2V5LXR3by10ZXN0LWtleS10d28,test1:dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWtleS1vbmU";

/**
 * The seed of every fast-check property in this run: `FC_SEED=<n> npm test` replays a run,
 * otherwise a fresh one is drawn per run (test/fast-check-seed.ts prints it on a failure).
 * One seed for the whole run (kept in process.env, as each project's config loads this
 * module anew), so every file's properties are reproducible from one number.
 */
if (!/^-?\d+$/.test(process.env.FC_SEED ?? "")) process.env.FC_SEED = String(Math.floor(Math.random() * 2 ** 31));
export const FC_SEED = process.env.FC_SEED!;

export const testBindings = {
  api: {
    LOG_LEVEL: "error",
    BUILD_VERSION: "test",
    ENVIRONMENT: "test",
    ADMIN_TOKEN: "test-admin-token-0123456789abcdef0123456789",
    BILLING_PROVIDER: "dev",
    STRIPE_SECRET_KEY: "sk_test_fake",
    STRIPE_WEBHOOK_SECRET: "whsec_test_secret_for_signatures",
    PLAYBACK_TOKEN_KEYS,
    FC_SEED,
  },
  media: {
    LOG_LEVEL: "error",
    PLAYER_ORIGINS: "https://app.marquee.test",
    BUILD_VERSION: "test",
    ENVIRONMENT: "test",
    PLAYBACK_TOKEN_KEYS,
    FC_SEED,
  },
};
