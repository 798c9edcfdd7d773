// Who may touch a stream: nobody outside its account, only its own device beats it, and a
// kids profile ends no one else's.
import { describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { call } from "./auth-client.ts";
import { anotherDevice, heartbeat, memberOn, seedPlayableCatalog, startPlayback, started, stopPlayback } from "./playback-client.ts";

await seedPlayableCatalog();

async function expectError(res: Response, status: number, code: string, reason?: string) {
  expect(res.status).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  if (reason) expect(body.error.details).toMatchObject({ reason });
}

describe("a stream's boundaries", () => {
  it("another account can neither see, beat nor stop it", async () => {
    const a = await memberOn("standard");
    const b = await memberOn("standard");
    const s = await started(await startPlayback(a.headers, { titleId: "first-light", profileId: a.profileId }));
    const bList = (await (await call("/v1/playback/sessions", { headers: b.headers })).json()) as { streams: unknown[] };
    expect(bList.streams).toEqual([]);
    // B's account object has never heard of it.
    await expectError(await heartbeat(b.headers, s.id), 409, "STREAM_ENDED", "unknown");
    await expectError(await stopPlayback(b.headers, s.id), 404, "NOT_FOUND");
    expect((await heartbeat(a.headers, s.id)).status).toBe(200);
  });

  it("only the device that started it can beat it; another device of the account can only end it", async () => {
    const m = await memberOn("standard");
    const tv = await anotherDevice(m.accountId, "TV");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    await expectError(await heartbeat(tv, s.id), 404, "NOT_FOUND", "other_device");
    expect((await heartbeat(m.headers, s.id)).status).toBe(200);
  });

  it("a device in a kids profile can stop its own stream but not another device's", async () => {
    const m = await memberOn("standard");
    const kid = ((await (await call("/v1/profiles", { headers: m.headers, json: { name: "Kid", isKids: true } })).json()) as { id: string }).id;
    const tablet = await anotherDevice(m.accountId, "Tablet");
    expect((await call(`/v1/profiles/${kid}/enter`, { headers: tablet, json: {} })).status).toBe(200);
    const adults = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    const kids = await started(await startPlayback(tablet, { titleId: "first-light" }));
    await expectError(await stopPlayback(tablet, adults.id), 403, "FORBIDDEN", "kids_profile");
    expect((await heartbeat(m.headers, adults.id)).status).toBe(200);
    expect((await stopPlayback(tablet, kids.id)).status).toBe(204);
  });

  it("a signed-out device's stream cannot be beaten with its old token", async () => {
    const m = await memberOn("standard");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    expect((await call("/v1/auth/logout", { method: "POST", headers: m.headers })).status).toBe(204);
    await expectError(await heartbeat(m.headers, s.id), 401, "UNAUTHORIZED");
  });

  it("the media token of one stream is for its asset only", async () => {
    const m = await memberOn("premium");
    const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId }));
    const path = new URL(s.media.hlsUrl).pathname.replace("/asset-one/", "/asset-pending/");
    await expectError(await call(path), 403, "FORBIDDEN", "other_asset");
  });
});
