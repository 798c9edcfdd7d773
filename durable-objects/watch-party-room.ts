// A watch party's rules, apart from the Durable Object that hosts them (watch-party.ts):
// who is in it, who controls it, the authoritative playback state, what each message does
// and what each member is told. Plain data in, messages out, no I/O: the object keeps the
// sockets, the storage and the alarm; this is what the protocol tests and `bench:party`'s
// CPU measurement exercise directly.
import { base64UrlEncode } from "../lib/base64url.ts";
import { parseClientMessage } from "../lib/watch-party-schema.ts";
import {
  PARTY_CLOSE,
  PARTY_LIMITS,
  positionAt,
  type ClientMessage,
  type PartyControl,
  type PartyInfo,
  type PartyMember,
  type PartyState,
  type ServerMessage,
} from "../lib/watch-party.ts";

/** What the api fixes when it creates a party (POST /v1/parties). */
export type PartyConfig = {
  partyId: string;
  titleId: string;
  episodeId: string | null;
  assetId: string;
  /** "First Light", or "Second Wind: S1 E2 Relapse". */
  title: string;
  durationSec: number;
  /** The profile that created it: the host when they join, unless the role was handed on. */
  creatorProfileId: string;
  creatorName: string;
  createdAtMs: number;
  expiresAtMs: number;
};

/** Who a socket belongs to, as the api verified it: a signed-in profile with a live playback session for the party's title. */
export type MemberIdentity = {
  /** The member's playback session (stream lease): one member per session, so a reconnect is the same member. */
  streamId: string;
  accountId: string;
  profileId: string;
  name: string;
  avatar: string;
};

type StoredMember = PartyMember & { streamId: string; accountId: string; profileId: string; awayUntil: number | null };

/** Everything a party is, persisted whole after every change (a few KB at most). */
export type RoomData = {
  config: PartyConfig;
  state: PartyState;
  hostId: string | null;
  /** How the host got the role: the creator's own, the first to arrive before them, or handed over. */
  hostBy: "creator" | "auto" | "handover" | null;
  control: PartyControl;
  waitForEveryone: boolean;
  members: StoredMember[];
  /** Since when nobody has been in it (null while someone is). */
  emptySince: number | null;
};

/** Where a message goes: one member, everyone, or everyone but one. */
export type Outgoing = { to: { member: string } | { all: true } | { allBut: string }; message: ServerMessage };

type Bucket = { tokens: number; at: number };

export function newRoom(config: PartyConfig): RoomData {
  return {
    config,
    state: { playing: false, pos: 0, at: config.createdAtMs, rate: 1, seq: 1, waitingFor: [] },
    hostId: null,
    hostBy: null,
    control: "host",
    waitForEveryone: false,
    members: [],
    emptySince: config.createdAtMs,
  };
}

const CONTROL_MESSAGES = new Set<ClientMessage["t"]>(["play", "pause", "seek", "rate"]);

export class Room {
  /** Set by every change worth persisting; the object writes `data` and clears it. */
  dirty = false;
  readonly #buckets = new Map<string, { messages: Bucket; reactions: Bucket; refusedInARow: number }>();

  readonly data: RoomData;

  constructor(data: RoomData) {
    this.data = data;
  }

  get config(): PartyConfig {
    return this.data.config;
  }

  /** Members within the party's limit: those here and those within their reconnect grace. */
  get memberCount(): number {
    return this.data.members.length;
  }

  info(): PartyInfo {
    const host = this.#member(this.data.hostId);
    return {
      partyId: this.config.partyId,
      titleId: this.config.titleId,
      episodeId: this.config.episodeId,
      title: this.config.title,
      durationSec: this.config.durationSec,
      hostId: this.data.hostId,
      hostName: host?.name ?? this.config.creatorName,
      control: this.data.control,
      waitForEveryone: this.data.waitForEveryone,
      members: this.memberCount,
      full: this.memberCount >= PARTY_LIMITS.maxMembers,
      expiresAt: new Date(this.config.expiresAtMs).toISOString(),
    };
  }

  isOver(now: number): boolean {
    return now >= this.config.expiresAtMs || (this.data.emptySince !== null && now >= this.data.emptySince + PARTY_LIMITS.emptyLifetimeMs);
  }

  /** When the object must next look at the party: the end of someone's grace, of an empty party, or of its life. */
  nextWake(): number {
    let at = this.config.expiresAtMs;
    if (this.data.emptySince !== null) at = Math.min(at, this.data.emptySince + PARTY_LIMITS.emptyLifetimeMs);
    for (const m of this.data.members) if (m.awayUntil !== null) at = Math.min(at, m.awayUntil);
    return at;
  }

  /**
   * A verified member connects. The same playback session again (a reload, a dropped
   * network, a second tab) is the same member: the place, and a host's role, are kept. A
   * new one is refused when the party is full; the check and the taking of the place are
   * one synchronous step, so a burst of joins cannot pass the limit together.
   */
  join(identity: MemberIdentity, now: number): { ok: false; code: "FULL" | "ENDED" } | { ok: true; memberId: string; rejoined: boolean; out: Outgoing[] } {
    if (this.isOver(now)) return { ok: false, code: "ENDED" };
    const out: Outgoing[] = [];
    let member = this.data.members.find((m) => m.streamId === identity.streamId);
    const rejoined = member !== undefined;
    if (member) {
      member.present = true;
      member.awayUntil = null;
      member.buffering = false;
    } else {
      if (this.memberCount >= PARTY_LIMITS.maxMembers) return { ok: false, code: "FULL" };
      member = {
        // Random, not derived from the playback session: other members see it, and must learn nothing from it.
        id: `m_${base64UrlEncode(crypto.getRandomValues(new Uint8Array(6)))}`,
        name: identity.name,
        avatar: identity.avatar,
        present: true,
        buffering: false,
        joinedAt: now,
        streamId: identity.streamId,
        accountId: identity.accountId,
        profileId: identity.profileId,
        awayUntil: null,
      };
      this.data.members.push(member);
    }
    this.data.emptySince = null;
    // The creator takes the role on arrival unless it was handed on; before they come, the first to arrive holds it.
    const creatorArrives = identity.profileId === this.config.creatorProfileId && this.data.hostBy !== "handover" && this.data.hostBy !== "creator";
    if (this.data.hostId === null || creatorArrives) {
      this.data.hostId = member.id;
      this.data.hostBy = creatorArrives ? "creator" : "auto";
      out.push({ to: { allBut: member.id }, message: { t: "host", hostId: member.id } });
    }
    out.push({ to: { allBut: member.id }, message: rejoined ? { t: "member", member: this.#public(member) } : { t: "join", member: this.#public(member) } });
    out.push({ to: { member: member.id }, message: this.welcome(member.id, now) });
    this.dirty = true;
    return { ok: true, memberId: member.id, rejoined, out };
  }

  welcome(memberId: string, now: number): ServerMessage {
    return { t: "welcome", you: memberId, party: this.info(), members: this.data.members.map((m) => this.#public(m)), state: this.data.state, now };
  }

  /** One message from a member's socket. `close` asks the object to close that socket. */
  message(memberId: string, text: string | ArrayBuffer, now: number): { out: Outgoing[]; close?: { code: number; reason: string }; left?: true } {
    const member = this.#member(memberId);
    if (!member || !member.present) return { out: [], close: { code: 1008, reason: "not a member" } };
    const limits = this.#bucketsOf(memberId, now);
    if (!take(limits.messages, PARTY_LIMITS.messages, now)) return this.#refuse(memberId, "RATE_LIMITED", "Too many messages; slow down.", undefined);
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.#refuse(memberId, parsed.code, parsed.message, undefined);
    const message = parsed.message;
    if (message.t === "reaction" && !take(limits.reactions, PARTY_LIMITS.reactions, now)) {
      return this.#refuse(memberId, "RATE_LIMITED", "Too many reactions; wait a moment.", "reaction");
    }
    if (CONTROL_MESSAGES.has(message.t) && this.data.control === "host" && this.data.hostId !== memberId) {
      return this.#refuse(memberId, "NOT_ALLOWED", "Only the host controls playback in this party.", message.t);
    }
    if ((message.t === "settings" || message.t === "host") && this.data.hostId !== memberId) {
      return this.#refuse(memberId, "NOT_ALLOWED", "Only the host can change that.", message.t);
    }
    limits.refusedInARow = 0;
    if (message.t === "leave") return { out: this.leave(memberId, "left", now), close: { code: PARTY_CLOSE.left, reason: "left" }, left: true };
    return { out: this.#apply(member, message, now) };
  }

  #apply(member: StoredMember, message: ClientMessage, now: number): Outgoing[] {
    const state = this.data.state;
    const duration = this.config.durationSec;
    const clamp = (pos: number) => Math.min(pos, duration);
    switch (message.t) {
      case "ping":
        return [{ to: { member: member.id }, message: { t: "pong", c: message.c, s: now } }];
      case "state":
        return [{ to: { member: member.id }, message: { t: "state", state, by: null, cause: "request" } }];
      case "play":
        return this.#setState({ playing: true, pos: clamp(message.pos), at: now, rate: state.rate, waitingFor: this.#stalledNow() }, member.id, "play");
      case "pause":
        return this.#setState({ playing: false, pos: clamp(message.pos), at: now, rate: state.rate, waitingFor: [] }, member.id, "pause");
      case "seek":
        return this.#setState({ playing: state.playing, pos: clamp(message.pos), at: now, rate: state.rate, waitingFor: state.playing ? this.#stalledNow() : [] }, member.id, "seek");
      case "rate":
        return this.#setState({ ...state, pos: positionAt(state, now, duration), at: now, rate: message.rate }, member.id, "rate");
      case "heartbeat":
        return this.#heartbeat(member, message.buffering, now);
      case "reaction":
        return [{ to: { all: true }, message: { t: "reaction", from: member.id, emoji: message.emoji } }];
      case "leave":
        return []; // handled in message()
      case "settings": {
        if (message.control !== undefined) this.data.control = message.control;
        const out: Outgoing[] = [];
        if (message.waitForEveryone !== undefined && message.waitForEveryone !== this.data.waitForEveryone) {
          this.data.waitForEveryone = message.waitForEveryone;
          const waitingFor = message.waitForEveryone && state.playing ? this.#stalledNow() : [];
          if (!sameIds(waitingFor, state.waitingFor)) out.push(...this.#setState(this.#frozenOrResumed(waitingFor, now), member.id, waitingFor.length ? "wait" : "resume"));
        }
        this.dirty = true;
        return [{ to: { all: true }, message: { t: "settings", control: this.data.control, waitForEveryone: this.data.waitForEveryone } }, ...out];
      }
      case "host": {
        const to = this.#member(message.to);
        if (!to || !to.present) return [{ to: { member: member.id }, message: { t: "error", code: "NO_SUCH_MEMBER", message: "That member is not in the party.", about: "host" } }];
        this.data.hostId = to.id;
        this.data.hostBy = "handover";
        this.dirty = true;
        return [{ to: { all: true }, message: { t: "host", hostId: to.id } }];
      }
    }
  }

  /**
   * A member's player stalled or recovered. With "wait for everyone" the party's clock
   * stops at the party's position while anyone is stalled and runs again when nobody is;
   * otherwise the stalled member catches up by themselves.
   */
  #heartbeat(member: StoredMember, buffering: boolean, now: number): Outgoing[] {
    if (member.buffering === buffering) return [];
    member.buffering = buffering;
    this.dirty = true;
    const out: Outgoing[] = [{ to: { allBut: member.id }, message: { t: "member", member: this.#public(member) } }];
    const state = this.data.state;
    if (!this.data.waitForEveryone || !state.playing) return out;
    const waitingFor = this.#stalledNow();
    if (sameIds(waitingFor, state.waitingFor)) return out;
    return [...out, ...this.#setState(this.#frozenOrResumed(waitingFor, now), member.id, waitingFor.length ? "wait" : "resume")];
  }

  /** The state with a new set of members waited for: frozen where the party is now, or running from where it stood. */
  #frozenOrResumed(waitingFor: string[], now: number): Omit<PartyState, "seq"> {
    const state = this.data.state;
    return { ...state, pos: positionAt(state, now, this.config.durationSec), at: now, waitingFor };
  }

  #stalledNow(): string[] {
    return this.data.waitForEveryone ? this.data.members.filter((m) => m.present && m.buffering).map((m) => m.id) : [];
  }

  #setState(next: Omit<PartyState, "seq">, by: string | null, cause: Extract<ServerMessage, { t: "state" }>["cause"]): Outgoing[] {
    this.data.state = { ...next, seq: this.data.state.seq + 1 };
    this.dirty = true;
    return [{ to: { all: true }, message: { t: "state", state: this.data.state, by, cause } }];
  }

  /** The socket closed without a `leave`: the member keeps their place, and a host the role, for reconnectGraceMs. */
  drop(memberId: string, now: number): Outgoing[] {
    const member = this.#member(memberId);
    if (!member || !member.present) return [];
    member.present = false;
    member.buffering = false;
    member.awayUntil = now + PARTY_LIMITS.reconnectGraceMs;
    this.dirty = true;
    const out: Outgoing[] = [{ to: { allBut: member.id }, message: { t: "member", member: this.#public(member) } }];
    return [...out, ...this.#reconsiderWaiting(member.id, now)];
  }

  /** A member leaves for good (a `leave`, or their grace ran out): a host's role passes to the member who has been here longest. */
  leave(memberId: string, reason: "left" | "dropped", now: number): Outgoing[] {
    const index = this.data.members.findIndex((m) => m.id === memberId);
    if (index < 0) return [];
    this.data.members.splice(index, 1);
    this.#buckets.delete(memberId);
    this.dirty = true;
    const out: Outgoing[] = [{ to: { allBut: memberId }, message: { t: "leave", memberId, reason } }];
    if (this.data.hostId === memberId) {
      const next = this.data.members.filter((m) => m.present).sort((a, b) => a.joinedAt - b.joinedAt)[0] ?? this.data.members[0] ?? null;
      this.data.hostId = next?.id ?? null;
      this.data.hostBy = next ? "auto" : null;
      out.push({ to: { allBut: memberId }, message: { t: "host", hostId: this.data.hostId } });
    }
    if (this.data.members.length === 0) this.data.emptySince = now;
    return [...out, ...this.#reconsiderWaiting(memberId, now)];
  }

  /** Time passes: members whose grace ran out leave; a host who has not come back passes the role on. */
  tick(now: number): Outgoing[] {
    const out: Outgoing[] = [];
    for (const m of [...this.data.members]) if (m.awayUntil !== null && m.awayUntil <= now) out.push(...this.leave(m.id, "dropped", now));
    return out;
  }

  #reconsiderWaiting(memberId: string, now: number): Outgoing[] {
    const state = this.data.state;
    if (!state.waitingFor.includes(memberId)) return [];
    const waitingFor = state.waitingFor.filter((id) => id !== memberId);
    return this.#setState(this.#frozenOrResumed(waitingFor, now), null, waitingFor.length ? "wait" : "resume");
  }

  #refuse(memberId: string, code: "INVALID" | "TOO_LARGE" | "RATE_LIMITED" | "NOT_ALLOWED", message: string, about: ClientMessage["t"] | undefined) {
    const limits = this.#buckets.get(memberId);
    const refused = limits ? ++limits.refusedInARow : 1;
    if (refused >= PARTY_LIMITS.maxRefusedInARow) return { out: [], close: { code: 1008, reason: "too many refused messages" } };
    // A flood is told once per run, not once per message.
    if (code === "RATE_LIMITED" && refused > 1) return { out: [] };
    const error: ServerMessage = about ? { t: "error", code, message, about } : { t: "error", code, message };
    return { out: [{ to: { member: memberId }, message: error }] };
  }

  #bucketsOf(memberId: string, now: number) {
    let b = this.#buckets.get(memberId);
    if (!b) {
      b = { messages: { tokens: PARTY_LIMITS.messages.burst, at: now }, reactions: { tokens: PARTY_LIMITS.reactions.burst, at: now }, refusedInARow: 0 };
      this.#buckets.set(memberId, b);
    }
    return b;
  }

  #member(id: string | null): StoredMember | undefined {
    return id === null ? undefined : this.data.members.find((m) => m.id === id);
  }

  #public(m: StoredMember): PartyMember {
    return { id: m.id, name: m.name, avatar: m.avatar, present: m.present, buffering: m.buffering, joinedAt: m.joinedAt };
  }

  /** The member a socket belongs to is still in the party (not left, not timed out). */
  has(memberId: string): boolean {
    return this.#member(memberId) !== undefined;
  }
}

/** A token bucket: `burst` at most, refilled at `perSec`. Takes one token if there is one. */
function take(bucket: Bucket, rule: { burst: number; perSec: number }, now: number): boolean {
  bucket.tokens = Math.min(rule.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * rule.perSec);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, i) => id === b[i]);

/** Whether a message should reach the member `memberId`. */
export function addressedTo(out: Outgoing, memberId: string): boolean {
  const to = out.to;
  return "all" in to || ("allBut" in to ? to.allBut !== memberId : to.member === memberId);
}
