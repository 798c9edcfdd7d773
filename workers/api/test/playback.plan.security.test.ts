// Streams held to the plan that allows them, as it is now: a cancelled subscription's
// streams stop at their next heartbeat, a downgrade lowers the height and the screens of
// streams already playing, no lease lives past 12 hours, a checkout that is not paid
// starts nothing, and a kids profile ends no other profile's stream.
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LEASE_MAX_LIFETIME_MS, type AccountStreams } from "../../../durable-objects/account-streams.ts";
import { checkoutCompleted, newSubscriptionId, nowSec, signedDelivery, stripeEvent, subscriptionObject, type FakeEvent } from "../billing/stripe-fixtures.ts";
import { getSubscription } from "../billing/subscriptions.ts";
import { call, signUp } from "./auth-client.ts";
import { anotherDevice, heartbeat, seedPlayableCatalog, startPlayback, started, stopPlayback, streamsObject } from "./playback-client.ts";

await seedPlayableCatalog();

async function deliver(event: FakeEvent, expected = 200) {
  const res = await exports.default.fetch("https://marquee.test/v1/billing/webhook", await signedDelivery(event, env.STRIPE_WEBHOOK_SECRET));
  expect(res.status, await res.clone().text()).toBe(expected);
  return res;
}

/** A member subscribed through Stripe (checkout completed and paid), with their first profile. */
async function stripeMember(planId: "basic" | "standard" | "premium") {
  const m = await signUp();
  const subscriptionId = newSubscriptionId();
  await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId, planId }, nowSec() - 60));
  const me = (await (await call("/v1/me", { headers: m.headers })).json()) as { profiles: { id: string }[] };
  return { ...m, subscriptionId, profileId: me.profiles[0]!.id };
}

const play = async (headers: Record<string, string>, profileId: string) => started(await startPlayback(headers, { titleId: "first-light", profileId }));
const endedReason = async (res: Response) => {
  expect(res.status).toBe(409);
  return ((await res.json()) as { error: { code: string; details: { reason: string } } }).error.details.reason;
};

describe("a cancelled subscription", () => {
  it("stops its playing streams at their next heartbeat: no fresh token at the old height", async () => {
    const m = await stripeMember("premium");
    const s = await play(m.headers, m.profileId);
    expect((await heartbeat(m.headers, s.id)).status).toBe(200);
    await deliver(stripeEvent("customer.subscription.deleted", subscriptionObject({ id: m.subscriptionId, status: "canceled" })));
    expect(await endedReason(await heartbeat(m.headers, s.id))).toBe("plan_ended");
    // And no new one starts.
    expect((await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId })).status).toBe(403);
  });

  it("reaches the streams even when the first delivery's push failed: the redelivery (a duplicate in D1) pushes again", async () => {
    const m = await stripeMember("standard");
    const s = await play(m.headers, m.profileId);
    const cancel = stripeEvent("customer.subscription.deleted", subscriptionObject({ id: m.subscriptionId, status: "canceled" }));
    // As if the push had been lost: apply the event to D1 alone, the way a failed push leaves it.
    const { applyStripeEvent, accountOfStripeEvent } = await import("../billing/subscriptions.ts");
    await applyStripeEvent(env.DB, cancel as never, new Date());
    expect(await accountOfStripeEvent(env.DB, cancel as never)).toBe(m.accountId);
    expect((await heartbeat(m.headers, s.id)).status).toBe(200);
    const again = await deliver(cancel);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(await endedReason(await heartbeat(m.headers, s.id))).toBe("plan_ended");
  });
});

describe("a downgrade", () => {
  it("lowers the height cap of playing streams and ends the newest past the new number of screens", async () => {
    const m = await stripeMember("premium");
    const devices = [m.headers, await anotherDevice(m.accountId, "TV"), await anotherDevice(m.accountId, "Tablet")];
    const streams = [];
    for (const d of devices) streams.push(await play(d, m.profileId));
    expect(streams[0]!.media.maxHeight).toBe(2160);
    await deliver(stripeEvent("customer.subscription.updated", subscriptionObject({ id: m.subscriptionId, status: "active", pricePlanId: "standard" })));
    const first = await heartbeat(devices[0]!, streams[0]!.id);
    expect(first.status).toBe(200);
    const beat = (await first.json()) as { media: { maxHeight: number; hlsUrl: string } };
    expect(beat.media.maxHeight).toBe(1080);
    // The token itself carries the lower cap: 2160p segments are refused with it.
    const token = /\/p\/([^/]+)\//.exec(beat.media.hlsUrl)![1]!;
    const claims = JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { h: number };
    expect(claims.h).toBe(1080);
    expect((await heartbeat(devices[1]!, streams[1]!.id)).status).toBe(200);
    expect(await endedReason(await heartbeat(devices[2]!, streams[2]!.id))).toBe("plan_limit");
  });

  it("is not undone by an older plan arriving late", async () => {
    const m = await stripeMember("premium");
    const s = await play(m.headers, m.profileId);
    const stub = streamsObject(m.accountId);
    const current = await runInDurableObject(stub, (o: AccountStreams) => o.currentPlan());
    expect(current).toMatchObject({ planId: "premium", playing: true });
    await stub.setPlan({ planId: "basic", playing: true, maxStreams: 1, maxHeight: 720, version: current!.version + 1 }, Date.now());
    expect(await stub.setPlan({ ...current! }, Date.now())).toEqual({ applied: false, ended: 0 });
    const beat = (await (await heartbeat(m.headers, s.id)).json()) as { media: { maxHeight: number } };
    expect(beat.media.maxHeight).toBe(720);
  });
});

describe("a lease", () => {
  it("lives at most 12 hours: then its heartbeat is refused, and no token is made to outlive it", async () => {
    const m = await stripeMember("basic");
    const s = await play(m.headers, m.profileId);
    const stub = streamsObject(m.accountId);
    // Started 12 hours minus one minute ago.
    await runInDurableObject(stub, (_: AccountStreams, state) => {
      state.storage.sql.exec("UPDATE leases SET started_at_ms = ? WHERE id = ?", Date.now() - LEASE_MAX_LIFETIME_MS + 60_000, s.id);
    });
    const beat = (await (await heartbeat(m.headers, s.id)).json()) as { media: { tokenExpiresAt: string }; lease: { expiresAt: string } };
    const end = Date.now() + 60_000;
    expect(Date.parse(beat.media.tokenExpiresAt)).toBeLessThanOrEqual(end + 1000);
    expect(Date.parse(beat.lease.expiresAt)).toBeLessThanOrEqual(end + 1000);
    await runInDurableObject(stub, (_: AccountStreams, state) => {
      state.storage.sql.exec("UPDATE leases SET started_at_ms = ? WHERE id = ?", Date.now() - LEASE_MAX_LIFETIME_MS - 1, s.id);
    });
    expect(await endedReason(await heartbeat(m.headers, s.id))).toBe("max_lifetime");
  });
});

describe("checkout", () => {
  it("activates a plan only when paid: an unpaid completion starts nothing, its async_payment_succeeded does", async () => {
    const m = await signUp();
    const subscriptionId = newSubscriptionId();
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId, planId: "premium", paymentStatus: "unpaid" }, nowSec() - 30));
    expect(await getSubscription(env.DB, m.accountId)).toBeNull();
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId, planId: "premium", type: "checkout.session.async_payment_succeeded" }, nowSec() - 10));
    expect(await getSubscription(env.DB, m.accountId)).toMatchObject({ status: "active", planId: "premium" });
  });

  it("with no payment required (a free trial) activates at once", async () => {
    const m = await signUp();
    await deliver(checkoutCompleted({ accountId: m.accountId, subscriptionId: newSubscriptionId(), planId: "basic", paymentStatus: "no_payment_required" }));
    expect(await getSubscription(env.DB, m.accountId)).toMatchObject({ status: "active" });
  });
});

describe("a kids profile", () => {
  async function family() {
    const m = await stripeMember("premium");
    const kidRes = await call("/v1/profiles", { json: { name: "Kid", isKids: true }, headers: m.headers });
    const kid = (await kidRes.json()) as { id: string };
    const kidsDevice = await anotherDevice(m.accountId, "Kids tablet");
    expect((await call(`/v1/profiles/${kid.id}/enter`, { json: {}, headers: kidsDevice })).status).toBe(200);
    return { m, kid, kidsDevice };
  }

  it("cannot end an adult profile's stream with endStreamId, and the stream goes on", async () => {
    const { m, kid, kidsDevice } = await family();
    const adults = [m.headers, await anotherDevice(m.accountId, "TV"), await anotherDevice(m.accountId, "Laptop"), await anotherDevice(m.accountId, "Phone")];
    const streams = [];
    for (const d of adults) streams.push(await play(d, m.profileId));
    const res = await startPlayback(kidsDevice, { titleId: "first-light", profileId: kid.id, endStreamId: streams[0]!.id });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe("kids_profile");
    expect((await heartbeat(adults[0]!, streams[0]!.id)).status).toBe(200);
  });

  it("cannot stop an adult profile's stream, but may end its own profile's on another device", async () => {
    const { m, kid, kidsDevice } = await family();
    const adultStream = await play(m.headers, m.profileId);
    expect((await stopPlayback(kidsDevice, adultStream.id)).status).toBe(403);
    expect((await heartbeat(m.headers, adultStream.id)).status).toBe(200);
    const otherKidsDevice = await anotherDevice(m.accountId, "Kids TV");
    expect((await call(`/v1/profiles/${kid.id}/enter`, { json: {}, headers: otherKidsDevice })).status).toBe(200);
    const kidsStream = await play(otherKidsDevice, kid.id);
    expect((await stopPlayback(kidsDevice, kidsStream.id)).status).toBe(204);
    expect(await endedReason(await heartbeat(otherKidsDevice, kidsStream.id))).toBe("ended_by_other_device");
  });
});
