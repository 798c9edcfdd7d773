// Watch together (#24): creating a party, joining it over its Durable Object's WebSocket
// with one's own playback session, the protocol (control, hand-over, wait for everyone,
// reactions), waking from hibernation with the party intact, and the limits: members,
// message size and rate, and who may connect at all.
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newRoom, Room, type MemberIdentity, type PartyConfig } from "../../../durable-objects/watch-party-room.ts";
import { WatchParty } from "../../../durable-objects/watch-party.ts";
import { errorBodySchema } from "../../../lib/errors.ts";
import { clockOffset, correctionFor, isRunning, MAX_RATE_NUDGE, PARTY_CLOSE, PARTY_LIMITS, positionAt, SEEK_THRESHOLD_SEC, type ServerMessage } from "../../../lib/watch-party.ts";
import { call } from "./auth-client.ts";
import { api, page, webMember } from "./pages-client.ts";
import { createParty, openSocket, socketRequest, type Socket } from "./party-client.ts";
import { wellInsideRateWindow } from "./rate-window.ts";
import { anotherDevice, memberOn, seedPlayableCatalog, startPlayback, started, stopPlayback, type Member } from "./playback-client.ts";

await seedPlayableCatalog();

async function expectError(res: Response, status: number, code: string, reason?: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  const body = errorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  if (reason) expect(body.error.details).toMatchObject({ reason });
}

const partyObject = (partyId: string) => env.WATCH_PARTIES.get(env.WATCH_PARTIES.idFromName(partyId));

/** A member of some account who has pressed Play on `titleId` and opened the party's socket. */
async function joinAs(member: Member, partyId: string, titleId = "first-light", headers = member.headers): Promise<Socket & { streamId: string; welcome: Extract<ServerMessage, { t: "welcome" }> }> {
  const stream = await started(await startPlayback(headers, { titleId, profileId: member.profileId }));
  const socket = await openSocket(headers, partyId, stream.id);
  const welcome = await socket.next("welcome");
  return Object.assign(socket, { streamId: stream.id, welcome });
}

/** Runs the party's object as the runtime does after hibernation: a new instance, built from storage and the sockets' attachments alone. */
function woken<T>(partyId: string, f: (fresh: WatchParty, state: DurableObjectState) => Promise<T> | T): Promise<T> {
  return runInDurableObject(partyObject(partyId), (_: WatchParty, state: DurableObjectState) => f(new WatchParty(state, env as ApiEnv), state));
}

describe("creating and joining a party", () => {
  it("answers an invite any account's member joins with their own playback session and lease", async () => {
    const host = await memberOn("standard");
    const guest = await memberOn("basic");
    const party = await createParty(host.headers, { titleId: "first-light", profileId: host.profileId });
    expect(party.partyId).toMatch(/^pty_[A-Za-z0-9_-]{22}$/);
    expect(party.inviteUrl).toBe(`https://marquee.test/party/${party.partyId}`);
    expect(Date.parse(party.expiresAt) - Date.now()).toBeLessThanOrEqual(PARTY_LIMITS.maxLifetimeMs);

    const info = (await (await call(`/v1/parties/${party.partyId}`, { headers: guest.headers })).json()) as { titleId: string; members: number; full: boolean; hostName: string };
    expect(info).toMatchObject({ titleId: "first-light", members: 0, full: false });

    const h = await joinAs(host, party.partyId);
    expect(h.welcome.party.hostId).toBe(h.welcome.you);
    const g = await joinAs(guest, party.partyId);
    expect(g.welcome.members.map((m) => m.id)).toEqual([h.welcome.you, g.welcome.you]);
    expect(g.welcome.party.hostId).toBe(h.welcome.you);
    const joined = await h.next("join");
    expect(joined.member).toMatchObject({ id: g.welcome.you, present: true, buffering: false });
    // The member's lease is on the member's own account, and the host's on the host's.
    const streams = async (m: Member) => ((await (await call("/v1/playback/sessions", { headers: m.headers })).json()) as { streams: { id: string }[] }).streams.map((s) => s.id);
    expect(await streams(guest)).toEqual([g.streamId]);
    expect(await streams(host)).toEqual([h.streamId]);
    expect(JSON.stringify(g.welcome)).not.toContain("pbs_");
  });

  it("the invite page sends a signed-in member to the party's player and a signed-out one to sign in", async () => {
    const host = await webMember({ plan: "standard", enter: true });
    const guest = await webMember({ plan: "basic", enter: true });
    const made = await api(host, "POST", "/v1/parties", { titleId: "second-wind" });
    expect(made.status).toBe(201);
    const party = (await made.json()) as { partyId: string; party: { episodeId: string | null } };
    expect(party.party.episodeId).not.toBeNull();
    const invited = await page(`/party/${party.partyId}`, guest);
    expect(invited.status).toBe(303);
    expect(invited.headers.get("location")).toBe(`/watch/second-wind?episode=${party.party.episodeId}&party=${party.partyId}`);
    const signedOut = await page(`/party/${party.partyId}`);
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get("location")).toBe(`/login?next=${encodeURIComponent(`/party/${party.partyId}`)}`);
    // Never made, and not even a party id: the site's 404 page.
    expect((await page("/party/pty_AAAAAAAAAAAAAAAAAAAAAA", guest)).status).toBe(404);
    expect((await page("/party/not-a-party", guest)).status).toBe(404);
    // A web page's POST needs its CSRF token like every other.
    const forged = await exports.default.fetch("https://marquee.test/v1/parties", { method: "POST", headers: { cookie: guest.cookie, "content-type": "application/json" }, body: JSON.stringify({ titleId: "first-light" }) });
    expect(forged.status).toBe(403);
  });

  it("refuses a socket without a live playback session of the member's own for the party's title", async () => {
    const host = await memberOn("standard");
    const guest = await memberOn("standard");
    const party = await createParty(host.headers, { titleId: "first-light", profileId: host.profileId });
    const other = await started(await startPlayback(guest.headers, { titleId: "second-wind", profileId: guest.profileId }));
    await expectError(await socketRequest(guest.headers, party.partyId, other.id), 403, "FORBIDDEN", "no_playback_session");
    // Someone else's session id: not this device's lease.
    const hosts = await started(await startPlayback(host.headers, { titleId: "first-light", profileId: host.profileId }));
    await expectError(await socketRequest(guest.headers, party.partyId, hosts.id), 403, "FORBIDDEN", "no_playback_session");
    // Another device of the host's own account: the lease is the first device's.
    await expectError(await socketRequest(await anotherDevice(host.accountId, "TV"), party.partyId, hosts.id), 403, "FORBIDDEN", "no_playback_session");
    // A stopped stream.
    const mine = await started(await startPlayback(guest.headers, { titleId: "first-light", profileId: guest.profileId, endStreamId: other.id }));
    expect((await stopPlayback(guest.headers, mine.id)).status).toBe(204);
    await expectError(await socketRequest(guest.headers, party.partyId, mine.id), 403, "FORBIDDEN", "no_playback_session");
    // Not signed in; another site's page; no upgrade; a forged party id; a malformed one.
    const again = await started(await startPlayback(guest.headers, { titleId: "first-light", profileId: guest.profileId }));
    await expectError(await socketRequest({}, party.partyId, again.id), 401, "UNAUTHORIZED");
    await expectError(await socketRequest(guest.headers, party.partyId, again.id, { origin: "https://evil.example" }), 403, "FORBIDDEN", "origin");
    await expectError(await call(`/v1/parties/${party.partyId}/socket?playbackSessionId=${again.id}`, { headers: guest.headers }), 400, "VALIDATION_FAILED", "upgrade_required");
    await expectError(await socketRequest(guest.headers, "pty_AAAAAAAAAAAAAAAAAAAAAA", again.id), 404, "NOT_FOUND", "party_ended");
    await expectError(await socketRequest(guest.headers, "pty_AAAAAAAAAAAAAAAAAAAAAB", again.id), 400, "VALIDATION_FAILED");
    await expectError(await socketRequest(guest.headers, party.partyId, "not-a-session"), 400, "VALIDATION_FAILED");
    // And with all of it right, it opens.
    const ok = await openSocket(guest.headers, party.partyId, again.id);
    expect((await ok.next("welcome")).members).toHaveLength(1);
  });

  it("each member's own entitlements apply: no plan, a kids profile above its maturity, bad bodies", async () => {
    const host = await memberOn("standard");
    const unsubscribed = await memberOn(null);
    await expectError(await call("/v1/parties", { headers: unsubscribed.headers, json: { titleId: "first-light", profileId: unsubscribed.profileId } }), 403, "FORBIDDEN", "no_subscription");
    // Joining starts with Play on one's own account, which says why not.
    await expectError(await startPlayback(unsubscribed.headers, { titleId: "first-light", profileId: unsubscribed.profileId }), 403, "FORBIDDEN", "no_subscription");

    const kid = ((await (await call("/v1/profiles", { headers: host.headers, json: { name: "Kid", isKids: true } })).json()) as { id: string }).id;
    const tablet = await anotherDevice(host.accountId, "Tablet");
    expect((await call(`/v1/profiles/${kid}/enter`, { headers: tablet, json: {} })).status).toBe(200);
    const rated = await createParty(host.headers, { titleId: "late-night", profileId: host.profileId });
    await expectError(await startPlayback(tablet, { titleId: "late-night" }), 403, "FORBIDDEN", "maturity");
    await expectError(await call("/v1/parties", { headers: tablet, json: { titleId: "late-night" } }), 403, "FORBIDDEN", "maturity");
    // A session for a title the kid may watch does not open a party of another one.
    const cartoon = await started(await startPlayback(tablet, { titleId: "first-light" }));
    await expectError(await socketRequest(tablet, rated.partyId, cartoon.id), 403, "FORBIDDEN", "no_playback_session");

    for (const body of [{}, { titleId: "" }, { titleId: "first-light", extra: 1 }, { titleId: "nope" }, { titleId: "second-wind", episodeId: "nope" }]) {
      const res = await call("/v1/parties", { headers: host.headers, json: { profileId: host.profileId, ...body } });
      expect([400, 404]).toContain(res.status);
    }
  });
});

describe("the protocol", () => {
  it("the host controls, members are told, and control and the host's role can be handed on", async () => {
    const [a, b, c] = await Promise.all([memberOn("standard"), memberOn("standard"), memberOn("standard")]);
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    const m1 = await joinAs(b, party.partyId);
    const m2 = await joinAs(c, party.partyId);

    host.send({ t: "play", pos: 1.5 });
    for (const s of [host, m1, m2]) {
      const { state, by, cause } = await s.next("state");
      expect({ playing: state.playing, pos: state.pos, by, cause }).toEqual({ playing: true, pos: 1.5, by: host.welcome.you, cause: "play" });
    }
    // A member may not, while the host controls.
    m1.send({ t: "pause", pos: 2 });
    expect(await m1.next("error")).toMatchObject({ code: "NOT_ALLOWED", about: "pause" });
    m1.send({ t: "settings", control: "everyone" });
    expect(await m1.next("error")).toMatchObject({ code: "NOT_ALLOWED", about: "settings" });

    host.send({ t: "settings", control: "everyone" });
    expect(await m2.next("settings")).toEqual({ t: "settings", control: "everyone", waitForEveryone: false });
    m1.send({ t: "seek", pos: 4 });
    expect((await m2.next("state")).state).toMatchObject({ playing: true, pos: 4 });
    await host.next("state", (m) => m.cause === "seek");
    m1.send({ t: "rate", rate: 1.5 });
    expect((await host.next("state", (m) => m.cause === "rate")).state.rate).toBe(1.5);
    m1.send({ t: "rate", rate: 3 });
    expect(await m1.next("error")).toMatchObject({ code: "INVALID" });
    // Past the end is the end.
    m1.send({ t: "seek", pos: 3600 });
    expect((await host.next("state", (m) => m.cause === "seek")).state.pos).toBe(6);

    host.send({ t: "host", to: m2.welcome.you });
    expect(await m1.next("host")).toEqual({ t: "host", hostId: m2.welcome.you });
    host.send({ t: "host", to: m1.welcome.you });
    expect(await host.next("error")).toMatchObject({ code: "NOT_ALLOWED", about: "host" });
    m2.send({ t: "host", to: "m_nobodyhere" });
    expect(await m2.next("error")).toMatchObject({ code: "NO_SUCH_MEMBER" });

    // The host leaves: the role passes to whoever has been here longest.
    m2.send({ t: "leave" });
    expect(await m2.closed()).toEqual({ code: PARTY_CLOSE.left, reason: "left" });
    expect(await host.next("leave")).toEqual({ t: "leave", memberId: m2.welcome.you, reason: "left" });
    expect(await m1.next("host", (m) => m.hostId !== m2.welcome.you)).toEqual({ t: "host", hostId: host.welcome.you });
  });

  it("answers clock samples with the object's time, and relays reactions within their rate", async () => {
    const [a, b] = await Promise.all([memberOn("standard"), memberOn("standard")]);
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    const guest = await joinAs(b, party.partyId);
    const before = Date.now();
    guest.send({ t: "ping", c: 12345.5 });
    const pong = await guest.next("pong");
    expect(pong.c).toBe(12345.5);
    expect(pong.s).toBeGreaterThanOrEqual(before - 1000);
    expect(pong.s).toBeLessThanOrEqual(Date.now() + 1000);

    for (let i = 0; i < 5; i++) guest.send({ t: "reaction", emoji: "🍿" });
    guest.send({ t: "reaction", emoji: "🤡" });
    const refused = await guest.next("error", (e) => e.code === "INVALID");
    expect(refused.message).toMatch(/reaction|emoji|option|expected/i);
    const relayed = host.inbox.filter((m) => m.t === "reaction");
    await host.next("reaction");
    expect(guest.inbox.filter((m) => m.t === "error" && m.code === "RATE_LIMITED")).toHaveLength(1);
    // The burst is PARTY_LIMITS.reactions.burst; the rest are refused, told once.
    expect(host.inbox.filter((m) => m.t === "reaction").length + 1).toBe(PARTY_LIMITS.reactions.burst);
    expect(relayed.length).toBeLessThanOrEqual(PARTY_LIMITS.reactions.burst);
  });

  it("with 'wait for everyone', a stalled member stops the party's clock until they recover", async () => {
    const [a, b] = await Promise.all([memberOn("standard"), memberOn("standard")]);
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    const guest = await joinAs(b, party.partyId);
    host.send({ t: "settings", waitForEveryone: true });
    await guest.next("settings");
    host.send({ t: "play", pos: 1 });
    await guest.next("state");
    guest.send({ t: "heartbeat", pos: 1.2, buffering: true });
    const wait = await host.next("state", (m) => m.cause === "wait");
    expect(wait.state.waitingFor).toEqual([guest.welcome.you]);
    expect(isRunning(wait.state)).toBe(false);
    expect((await host.next("member")).member).toMatchObject({ id: guest.welcome.you, buffering: true });
    guest.send({ t: "heartbeat", pos: 1.2, buffering: false });
    const resume = await host.next("state", (m) => m.cause === "resume");
    expect(resume.state).toMatchObject({ playing: true, waitingFor: [] });
    expect(resume.state.pos).toBe(wait.state.pos);
    // Without it, a stall is the stalled member's own business.
    host.send({ t: "settings", waitForEveryone: false });
    await guest.next("settings", (m) => !m.waitForEveryone);
    guest.send({ t: "heartbeat", pos: 1.5, buffering: true });
    await host.next("member", (m) => m.member.buffering);
    guest.send({ t: "state" });
    expect((await guest.next("state", (m) => m.cause === "request")).state.waitingFor).toEqual([]);
  });

  it("after hibernation a woken object has the whole party: state, members, host, and each socket's member", async () => {
    const [a, b] = await Promise.all([memberOn("standard"), memberOn("standard")]);
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    const guest = await joinAs(b, party.partyId);
    host.send({ t: "seek", pos: 3.25 });
    const seeked = (await guest.next("state")).state;
    host.send({ t: "settings", waitForEveryone: true });
    await guest.next("settings");

    // The runtime evicts an idle object and builds a new instance when the next message
    // comes: nothing of the old instance's memory survives, only storage and attachments.
    await woken(party.partyId, async (fresh, state) => {
      const sockets = state.getWebSockets();
      expect(sockets.map((ws) => (ws.deserializeAttachment() as { memberId: string }).memberId).sort()).toEqual([host.welcome.you, guest.welcome.you].sort());
      const guestSocket = state.getWebSockets(guest.welcome.you)[0]!;
      await fresh.webSocketMessage(guestSocket, JSON.stringify({ t: "state" }));
      await fresh.webSocketMessage(guestSocket, JSON.stringify({ t: "play", pos: 3.25 }));
    });
    expect((await guest.next("state", (m) => m.cause === "request")).state).toEqual(seeked);
    // The woken party still knows who hosts it: the guest's play was refused.
    expect(await guest.next("error")).toMatchObject({ code: "NOT_ALLOWED" });
    const info = (await (await call(`/v1/parties/${party.partyId}`, { headers: b.headers })).json()) as { hostId: string; waitForEveryone: boolean; members: number };
    expect(info).toMatchObject({ hostId: host.welcome.you, waitForEveryone: true, members: 2 });
  });

  it("a dropped member keeps their place for the grace, then leaves; a dropped host's role passes on", async () => {
    const [a, b] = await Promise.all([memberOn("standard"), memberOn("standard")]);
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    const guest = await joinAs(b, party.partyId);
    host.ws.close(1001, "network gone");
    const away = await guest.next("member");
    expect(away.member).toMatchObject({ id: host.welcome.you, present: false });
    // Reconnecting within the grace with the same playback session is the same member, still the host.
    const back = await openSocket(a.headers, party.partyId, host.streamId);
    const welcome = await back.next("welcome");
    expect(welcome.you).toBe(host.welcome.you);
    expect(welcome.party.hostId).toBe(host.welcome.you);
    expect((await guest.next("member")).member).toMatchObject({ id: host.welcome.you, present: true });
    // A second socket of the same member takes over; the first is told not to come back.
    const tab = await openSocket(a.headers, party.partyId, host.streamId);
    await tab.next("welcome");
    expect((await back.closed()).code).toBe(PARTY_CLOSE.replaced);

    tab.ws.close(1001, "gone again");
    await guest.next("member", (m) => !m.member.present);
    // Within the grace nothing happens; after it, the alarm lets the member go.
    const alarmAt = (ms: number) => runInDurableObject(partyObject(party.partyId), (instance: WatchParty) => instance.wake(Date.now() + ms));
    await alarmAt(PARTY_LIMITS.reconnectGraceMs - 2000);
    expect(guest.inbox.filter((m) => m.t === "leave")).toEqual([]);
    await alarmAt(PARTY_LIMITS.reconnectGraceMs + 1000);
    expect(await guest.next("leave")).toEqual({ t: "leave", memberId: host.welcome.you, reason: "dropped" });
    expect(await guest.next("host", (m) => m.hostId === guest.welcome.you)).toEqual({ t: "host", hostId: guest.welcome.you });
  });

  it("a party over its lifetime closes its sockets, forgets everything and refuses invites", async () => {
    const [a, b] = await Promise.all([memberOn("standard"), memberOn("standard")]);
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    const object = partyObject(party.partyId);
    await runInDurableObject(object, (instance: WatchParty) => instance.wake(Date.parse(party.expiresAt) + 1));
    expect((await host.closed()).code).toBe(PARTY_CLOSE.ended);
    expect(await runInDurableObject(object, (_: WatchParty, state: DurableObjectState) => [...state.storage.kv.list()].length)).toBe(0);
    await expectError(await call(`/v1/parties/${party.partyId}`, { headers: b.headers }), 404, "NOT_FOUND", "party_ended");
    const stream = await started(await startPlayback(b.headers, { titleId: "first-light", profileId: b.profileId }));
    await expectError(await socketRequest(b.headers, party.partyId, stream.id), 404, "NOT_FOUND", "party_ended");
  });

  it("a party nobody joins, or everyone has left, ends after emptyLifetimeMs", async () => {
    const a = await memberOn("standard");
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const object = partyObject(party.partyId);
    await runInDurableObject(object, (instance: WatchParty) => instance.wake(Date.now() + PARTY_LIMITS.emptyLifetimeMs - 60_000));
    expect((await call(`/v1/parties/${party.partyId}`, { headers: a.headers })).status).toBe(200);
    await runInDurableObject(object, (instance: WatchParty) => instance.wake(Date.now() + PARTY_LIMITS.emptyLifetimeMs + 1000));
    expect((await call(`/v1/parties/${party.partyId}`, { headers: a.headers })).status).toBe(404);
  });
});

describe("limits", () => {
  it(`a burst of joins admits exactly ${PARTY_LIMITS.maxMembers} members`, async () => {
    const host = await memberOn("premium");
    const party = await createParty(host.headers, { titleId: "first-light", profileId: host.profileId });
    // Twelve playback sessions on three accounts of four screens each, then twelve sockets at once.
    const accounts = await Promise.all([host, await memberOn("premium"), await memberOn("premium")]);
    const sessions: { headers: Record<string, string>; id: string }[] = [];
    for (const m of accounts) {
      for (let i = 0; i < 4; i++) {
        const s = await started(await startPlayback(m.headers, { titleId: "first-light", profileId: m.profileId, clientSessionId: crypto.randomUUID() }));
        sessions.push({ headers: m.headers, id: s.id });
      }
    }
    const answers = await Promise.all(sessions.map((s) => socketRequest(s.headers, party.partyId, s.id)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 101)).toHaveLength(PARTY_LIMITS.maxMembers);
    const refused = answers.filter((r) => r.status !== 101);
    expect(refused).toHaveLength(sessions.length - PARTY_LIMITS.maxMembers);
    for (const r of refused) await expectError(r, 409, "CONFLICT", "party_full");
    for (const r of answers) r.webSocket?.accept();
    const info = (await (await call(`/v1/parties/${party.partyId}`, { headers: host.headers })).json()) as { members: number; full: boolean };
    expect(info).toMatchObject({ members: PARTY_LIMITS.maxMembers, full: true });
  });

  it("refuses oversized, binary and malformed messages, rate-limits a flood, and closes a socket that keeps on", async () => {
    const [a, b] = await Promise.all([memberOn("standard"), memberOn("standard")]);
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    const guest = await joinAs(b, party.partyId);
    host.send(JSON.stringify({ t: "seek", pos: 1, pad: "x".repeat(PARTY_LIMITS.maxMessageChars) }));
    expect(await host.next("error")).toMatchObject({ code: "TOO_LARGE" });
    host.ws.send(new Uint8Array([1, 2, 3]));
    expect(await host.next("error")).toMatchObject({ code: "INVALID" });
    for (const junk of ["{", "[]", "null", '{"t":"seek"}', '{"t":"seek","pos":-1}', '{"t":"seek","pos":1,"x":1}', '{"t":"nope"}', '{"t":"ping","c":"1"}']) {
      host.send(junk);
      expect(await host.next("error")).toMatchObject({ code: "INVALID" });
    }
    const seq = (await (async () => {
      host.send({ t: "state" });
      return (await host.next("state")).state.seq;
    })());
    // Nothing refused moved the party.
    expect(seq).toBe(host.welcome.state.seq);
    expect(guest.inbox.filter((m) => m.t === "state")).toEqual([]);

    // A flood: the burst passes, then one RATE_LIMITED, then silence.
    for (let i = 0; i < PARTY_LIMITS.messages.burst + 10; i++) guest.send({ t: "ping", c: i });
    await guest.next("error", (e) => e.code === "RATE_LIMITED");
    await new Promise((r) => setTimeout(r, 100));
    expect(guest.inbox.filter((m) => m.t === "error")).toHaveLength(0);
    expect(guest.inbox.filter((m) => m.t === "pong").length).toBeLessThanOrEqual(PARTY_LIMITS.messages.burst + 2);
    // Keeping on past maxRefusedInARow closes the socket (and the member may come back).
    for (let i = 0; i < PARTY_LIMITS.maxRefusedInARow + 5; i++) guest.send("{");
    expect((await guest.closed()).code).toBe(1008);
  });

  it("an account starts at most 6 parties a minute: a burst past it gets 429 and makes nothing", async () => {
    const a = await memberOn("standard");
    await wellInsideRateWindow(60);
    const answers = await Promise.all(Array.from({ length: 9 }, () => call("/v1/parties", { headers: a.headers, json: { titleId: "first-light", profileId: a.profileId } })));
    const made = answers.filter((r) => r.status === 201);
    expect(made).toHaveLength(6);
    const refused = answers.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.headers.get("retry-after")).toBe("60");
      await expectError(r, 429, "RATE_LIMITED");
    }
    // Another account is not held back by this one.
    const b = await memberOn("standard");
    await createParty(b.headers, { titleId: "first-light", profileId: b.profileId });
  }, 20_000);

  it("the keep-alive is answered without the object's code running", async () => {
    const a = await memberOn("standard");
    const party = await createParty(a.headers, { titleId: "first-light", profileId: a.profileId });
    const host = await joinAs(a, party.partyId);
    host.send("ka");
    await expect.poll(() => host.raw.includes("ka")).toBe(true);
    // It was never a message to the protocol: no error came back for it.
    expect(host.inbox.filter((m) => (m as { t?: string }).t === "error")).toEqual([]);
  });
});

describe("the room's rules and the sync arithmetic", () => {
  const config: PartyConfig = {
    partyId: "pty_AAAAAAAAAAAAAAAAAAAAAA",
    titleId: "t",
    episodeId: null,
    assetId: "a",
    title: "T",
    durationSec: 600,
    creatorProfileId: "p0",
    creatorName: "Host",
    createdAtMs: 1_000_000,
    expiresAtMs: 1_000_000 + PARTY_LIMITS.maxLifetimeMs,
  };
  const who = (n: number): MemberIdentity => ({ streamId: `pbs_${n}`.padEnd(20, "x"), accountId: `acc${n}`, profileId: `p${n}`, name: `M${n}`, avatar: "blue" });

  it("the creator takes the host's role on arrival unless it was handed on", () => {
    const room = new Room(newRoom(config));
    const first = room.join(who(1), 1_000_100);
    const creator = room.join(who(0), 1_000_200);
    if (!first.ok || !creator.ok) throw new Error("join refused");
    expect(room.data.hostId).toBe(creator.memberId);
  });

  it("positions run with the party's clock and stop while it waits; corrections stay within their bounds", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 500, noNaN: true }), fc.integer({ min: 0, max: 600_000 }), fc.constantFrom(0.5, 1, 1.5, 2), (pos, elapsed, rate) => {
        const playing = { playing: true, pos, at: 0, rate, seq: 1, waitingFor: [] };
        const at = positionAt(playing, elapsed, 600);
        expect(at).toBeCloseTo(Math.min(600, pos + (elapsed / 1000) * rate), 6);
        expect(positionAt({ ...playing, waitingFor: ["m_x"] }, elapsed, 600)).toBe(pos);
        expect(positionAt({ ...playing, playing: false }, elapsed, 600)).toBe(pos);
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: -30, max: 30, noNaN: true }), fc.constantFrom(0.5, 1, 2), (drift, rate) => {
        const c = correctionFor(drift, 100, rate);
        if (Math.abs(drift) > SEEK_THRESHOLD_SEC) expect(c).toEqual({ kind: "seek", to: 100, rate });
        else {
          expect(Math.abs(c.rate / rate - 1)).toBeLessThanOrEqual(MAX_RATE_NUDGE + 1e-12);
          // Ahead plays slower, behind faster.
          if (c.kind === "nudge") expect(Math.sign(rate - c.rate)).toBe(Math.sign(drift));
        }
      }),
    );
  });

  it("the clock offset comes from the round trip with the least room for error", () => {
    // True offset 500 ms; the short round trip is symmetric, the long ones are not.
    const samples = [
      { c0: 0, s: 900, c1: 200 },
      { c0: 1000, s: 1540, c1: 1080 },
      { c0: 2000, s: 2700, c1: 2300 },
    ];
    expect(clockOffset(samples)).toEqual({ offsetMs: 500, rttMs: 80 });
    expect(clockOffset([])).toBeNull();
    expect(clockOffset([{ c0: 10, s: 5, c1: 5 }])).toBeNull();
  });
});
