// Fixed, obviously fake secrets and quiet logs for the Workers under test, so tests never
// depend on a developer's .dev.vars.
const PLAYBACK_TOKEN_KEYS = "test2:dGVzdC1rZXktdHdvLXRlc3Qta2V5LXR3by10ZXN0LWtleS10d28,test1:dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWtleS1vbmU";

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
  },
  media: {
    LOG_LEVEL: "error",
    PLAYER_ORIGINS: "https://app.marquee.test",
    BUILD_VERSION: "test",
    ENVIRONMENT: "test",
    PLAYBACK_TOKEN_KEYS,
  },
};
