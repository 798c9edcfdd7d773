// What billing refuses: forged, altered, replayed or unsigned webhooks; members who are not signed in; kids profiles; dev billing off localhost; one account reading another's subscription.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { isLocalHostname } from "../billing/local-host.ts";
import { checkoutCompleted, newSubscriptionId, nowSec, signedDelivery, type FakeEvent } from "../billing/stripe-fixtures.ts";
import { signStripePayload, verifyStripeSignature } from "../billing/stripe-signature.ts";
import { getSubscription } from "../billing/subscriptions.ts";
import { call, signUp } from "./auth-client.ts";

const SECRET = env.STRIPE_WEBHOOK_SECRET;

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).not.toBe("");
  return body;
}

const postWebhook = (body: string, headers: Record<string, string>) =>
  exports.default.fetch("https://marquee.test/v1/billing/webhook", { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

const seen = async (id: string) => (await env.DB.prepare("SELECT 1 AS x FROM billing_events WHERE id = ?").bind(id).first()) !== null;

const checkout = (headers: Record<string, string>, planId: string, host = "localhost") =>
  exports.default.fetch(`https://${host}/v1/billing/checkout`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ planId }) });

/** A checkout event that would make this member premium, if it were accepted. */
async function premiumFor(): Promise<{ accountId: string; event: FakeEvent; body: string }> {
  const m = await signUp();
  const event = checkoutCompleted({ accountId: m.accountId, subscriptionId: newSubscriptionId(), planId: "premium" });
  return { accountId: m.accountId, event, body: JSON.stringify(event) };
}

describe("verifyStripeSignature refuses", () => {
  const t = 1_767_225_600;
  const payload = '{"id":"evt_1","type":"checkout.session.completed"}';

  it("a missing or empty header", async () => {
    expect(await verifyStripeSignature(payload, undefined, SECRET, t)).toEqual({ ok: false, reason: "missing" });
    expect(await verifyStripeSignature(payload, "", SECRET, t)).toEqual({ ok: false, reason: "missing" });
  });

  it.each([
    ["no timestamp", "v1=abc"],
    ["no v1", `t=${t}`],
    ["only the v0 test scheme", `t=${t},v0=abc`],
    ["a timestamp that is not a number", "t=soon,v1=abc"],
    ["a negative timestamp", "t=-5,v1=abc"],
    ["two timestamps", `t=${t},t=${t + 1},v1=abc`],
    ["an item without a key", `t=${t},=abc,v1=abc`],
    ["garbage", "Bearer whatever"],
  ])("a malformed header: %s", async (_, header) => {
    expect(await verifyStripeSignature(payload, header, SECRET, t)).toEqual({ ok: false, reason: "malformed" });
  });

  it("a signature made with another secret", async () => {
    const header = await signStripePayload(payload, "whsec_someone_else", t);
    expect(await verifyStripeSignature(payload, header, SECRET, t)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("a payload changed after signing, even by one character", async () => {
    const header = await signStripePayload(payload, SECRET, t);
    expect(await verifyStripeSignature(payload.replace("evt_1", "evt_2"), header, SECRET, t)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyStripeSignature(`${payload} `, header, SECRET, t)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("a valid signature moved to another timestamp (the timestamp is signed too)", async () => {
    const v1 = (await signStripePayload(payload, SECRET, t)).split(",")[1];
    expect(await verifyStripeSignature(payload, `t=${t + 1},${v1}`, SECRET, t + 1)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("a valid signature under the v0 scheme, or with its hex cut short", async () => {
    const hex = (await signStripePayload(payload, SECRET, t)).split("v1=")[1]!;
    expect((await verifyStripeSignature(payload, `t=${t},v0=${hex}`, SECRET, t)).ok).toBe(false);
    expect(await verifyStripeSignature(payload, `t=${t},v1=${hex.slice(0, 32)}`, SECRET, t)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("a stale signature (301 s old) and one dated beyond the tolerance in the future", async () => {
    const header = await signStripePayload(payload, SECRET, t);
    expect(await verifyStripeSignature(payload, header, SECRET, t + 301)).toEqual({ ok: false, reason: "stale" });
    expect(await verifyStripeSignature(payload, header, SECRET, t - 301)).toEqual({ ok: false, reason: "stale" });
    expect(await verifyStripeSignature(payload, header, SECRET, t + 61, 60)).toEqual({ ok: false, reason: "stale" });
  });
});

describe("POST /v1/billing/webhook refuses with 400 and changes nothing", () => {
  it.each([
    ["no signature", async () => ({})],
    ["a malformed signature", async () => ({ "stripe-signature": "v1=deadbeef" })],
    ["another secret's signature", async (body: string) => ({ "stripe-signature": await signStripePayload(body, "whsec_attacker", nowSec()) })],
    ["a signature 301 s old", async (body: string) => ({ "stripe-signature": await signStripePayload(body, SECRET, nowSec() - 301) })],
    ["a signature dated 10 minutes ahead", async (body: string) => ({ "stripe-signature": await signStripePayload(body, SECRET, nowSec() + 600) })],
  ])("%s", async (_, headersFor: (body: string) => Promise<Record<string, string>>) => {
    const { accountId, event, body } = await premiumFor();
    const res = await postWebhook(body, await headersFor(body));
    const error = await expectError(res, 400, "BAD_REQUEST");
    expect(error.error.details).toMatchObject({ reason: expect.stringMatching(/^(missing|malformed|mismatch|stale)$/) });
    expect(await seen(event.id)).toBe(false);
    expect(await getSubscription(env.DB, accountId)).toBeNull();
  });

  it("a signed event whose body was then altered (another account, another plan)", async () => {
    const victim = await premiumFor();
    const attacker = await signUp();
    const init = await signedDelivery(victim.event, SECRET);
    const altered = String(init.body).replace(victim.accountId, attacker.accountId);
    const error = await expectError(await postWebhook(altered, init.headers as Record<string, string>), 400, "BAD_REQUEST");
    expect(error.error.details).toEqual({ reason: "mismatch" });
    expect(await getSubscription(env.DB, attacker.accountId)).toBeNull();
    expect(await seen(victim.event.id)).toBe(false);
  });

  it("the signatures the test bindings promise are the ones checked (not a developer's .dev.vars)", async () => {
    expect(SECRET).toBe("whsec_test_secret_for_signatures");
    const { accountId, body } = await premiumFor();
    const res = await postWebhook(body, { "stripe-signature": await signStripePayload(body, SECRET, nowSec()) });
    expect(await res.json()).toEqual({ received: true, duplicate: false });
    expect((await getSubscription(env.DB, accountId))?.planId).toBe("premium");
  });

  it("concurrent redeliveries of one event apply it once", async () => {
    const { accountId, event } = await premiumFor();
    const responses = await Promise.all([1, 2, 3, 4].map(async () => (await exports.default.fetch("https://marquee.test/v1/billing/webhook", await signedDelivery(event, SECRET))).json()));
    expect(responses.filter((r) => (r as { duplicate: boolean }).duplicate === false)).toHaveLength(1);
    expect((await getSubscription(env.DB, accountId))?.status).toBe("active");
  });
});

describe("member routes", () => {
  it("need a signed-in member (401), but the plans are public", async () => {
    await expectError(await checkout({}, "basic"), 401, "UNAUTHORIZED");
    await expectError(await checkout({ Authorization: "Bearer not-a-session-token" }, "basic"), 401, "UNAUTHORIZED");
    await expectError(await call("/v1/billing/subscription"), 401, "UNAUTHORIZED");
    expect((await call("/v1/plans")).status).toBe(200);
  });

  it("show each account only its own subscription", async () => {
    const a = await signUp();
    const b = await signUp();
    expect((await checkout(a.headers, "premium")).status).toBe(200);
    expect((await checkout(b.headers, "basic")).status).toBe(200);
    expect(await (await call("/v1/billing/subscription", { headers: a.headers })).json()).toMatchObject({ planId: "premium" });
    expect(await (await call("/v1/billing/subscription", { headers: b.headers })).json()).toMatchObject({ planId: "basic" });
    const c = await signUp();
    expect(await (await call("/v1/billing/subscription", { headers: c.headers })).json()).toEqual({ status: "none" });
    // The body cannot point checkout at another account: it takes only a plan.
    const res = await exports.default.fetch("https://localhost/v1/billing/checkout", {
      method: "POST",
      headers: { ...c.headers, "content-type": "application/json" },
      body: JSON.stringify({ planId: "basic", accountId: a.accountId }),
    });
    expect(res.status).toBe(200);
    expect((await getSubscription(env.DB, a.accountId))?.planId).toBe("premium");
    expect((await getSubscription(env.DB, c.accountId))?.planId).toBe("basic");
  });

  it("refuse a kids profile the checkout (403), but let it see the subscription", async () => {
    const m = await signUp();
    const kid = await call("/v1/profiles", { json: { name: "Kid", isKids: true }, headers: m.headers });
    expect(kid.status).toBe(201);
    const { id } = (await kid.json()) as { id: string };
    expect((await call(`/v1/profiles/${id}/enter`, { json: {}, headers: m.headers })).status).toBe(200);
    const error = await expectError(await checkout(m.headers, "premium"), 403, "FORBIDDEN");
    expect(error.error.details).toEqual({ reason: "kids_profile" });
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
    expect(await (await call("/v1/billing/subscription", { headers: m.headers })).json()).toEqual({ status: "none" });
  });
});

describe("the dev billing provider", () => {
  it("is refused on any host but localhost, so it cannot give plans away in production", async () => {
    const m = await signUp();
    for (const host of ["marquee.test", "localhost.evil.example", "notlocalhost", "127.0.0.2", "marquee.workers.dev"]) {
      const error = await expectError(await checkout(m.headers, "premium", host), 403, "FORBIDDEN");
      expect(error.error.details, host).toEqual({ reason: "dev_billing_not_local" });
    }
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
  });

  it("ignores a Host header claiming localhost: the URL's hostname is what the request was routed by", async () => {
    const m = await signUp();
    const res = await exports.default.fetch("https://marquee.test/v1/billing/checkout", {
      method: "POST",
      headers: { ...m.headers, "content-type": "application/json", Host: "localhost", "X-Forwarded-Host": "localhost" },
      body: JSON.stringify({ planId: "premium" }),
    });
    await expectError(res, 403, "FORBIDDEN");
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
  });

  it("knows local hostnames exactly", () => {
    for (const host of ["localhost", "LOCALHOST", "127.0.0.1", "[::1]", "app.localhost"]) expect(isLocalHostname(host), host).toBe(true);
    for (const host of ["localhost.example.com", "mylocalhost", "127.0.0.1.nip.io", "::1", "0.0.0.0", "example.com"]) expect(isLocalHostname(host), host).toBe(false);
  });
});
