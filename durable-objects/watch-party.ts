// `WatchParty`: one Durable Object per watch party. It holds the members' WebSockets with
// the Hibernation API (acceptWebSocket / webSocketMessage), so a party where nothing
// happens is evicted from memory and costs nothing while the sockets stay open: the
// keep-alive is answered by the runtime itself (setWebSocketAutoResponse), and everything
// the party is lives in storage and in each socket's attachment, from which a woken object
// rebuilds itself. The rules are in watch-party-room.ts; this file is sockets, storage
// and the alarm. The api (workers/api/parties/) creates the party and lets a socket in only
// with a verified member and their live playback session for the party's title.
import { DurableObject } from "cloudflare:workers";
import { KEEPALIVE, PARTY_CLOSE, type PartyInfo } from "../lib/watch-party.ts";
import { addressedTo, newRoom, Room, type MemberIdentity, type Outgoing, type PartyConfig, type RoomData } from "./watch-party-room.ts";

/** The header the api passes the verified member in (the object is reachable only through the api). */
export const MEMBER_HEADER = "x-marquee-party-member";

/** What the api verified about the connecting member and their playback session. */
export type VerifiedJoin = MemberIdentity & { titleId: string; episodeId: string | null };

type Attachment = { memberId: string };

const ROOM_KEY = "room";

export class WatchParty extends DurableObject<ApiEnv> {
  #room: Room | null;
  /** The alarm this instance set, so a message costs no storage round trip to read it back. */
  #armedAt: number | null = null;

  constructor(ctx: DurableObjectState, env: ApiEnv) {
    super(ctx, env);
    // Answered without waking the object: an idle party's sockets stay open for free.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(KEEPALIVE.request, KEEPALIVE.response));
    // SQLite-backed storage: the synchronous key-value API, so the constructor of a woken
    // object has its party before the first message is delivered.
    const data = ctx.storage.kv.get<RoomData>(ROOM_KEY);
    this.#room = data ? new Room(data) : null;
  }

  /** Creates the party. The same config again is a retry and answers the party; another one for this id is refused. */
  async create(config: PartyConfig): Promise<{ ok: true; party: PartyInfo } | { ok: false; code: "CONFLICT" }> {
    if (this.#room) return JSON.stringify(this.#room.config) === JSON.stringify(config) ? { ok: true, party: this.#room.info() } : { ok: false, code: "CONFLICT" };
    this.#room = new Room(newRoom(config));
    this.#save();
    await this.#arm();
    return { ok: true, party: this.#room.info() };
  }

  /** The party as an invitee sees it before joining, or null when there is none (never made, or over). */
  info(nowMs: number): PartyInfo | null {
    const room = this.#room;
    return room && !room.isOver(nowMs) ? room.info() : null;
  }

  /** The socket upgrade, forwarded by the api with the verified member in MEMBER_HEADER. */
  override async fetch(request: Request): Promise<Response> {
    const room = this.#room;
    const now = Date.now();
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return refusal(400, "VALIDATION_FAILED", "Connect with a WebSocket.", "upgrade_required");
    let join: VerifiedJoin;
    try {
      join = JSON.parse(request.headers.get(MEMBER_HEADER) ?? "") as VerifiedJoin;
    } catch {
      return refusal(400, "VALIDATION_FAILED", "No verified member.", "no_member");
    }
    if (!room || room.isOver(now)) return refusal(404, "NOT_FOUND", "This watch party has ended or never existed.", "party_ended");
    if (join.titleId !== room.config.titleId || join.episodeId !== room.config.episodeId) {
      return refusal(403, "FORBIDDEN", "Start playback of the party's title first: the socket needs your playback session for it.", "no_playback_session");
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    // No await between the count inside join() and acceptWebSocket: the limit and the
    // taking of the place are one step, whatever arrives at the same time.
    const joined = room.join(join, now);
    if (!joined.ok) {
      return joined.code === "FULL"
        ? refusal(409, "CONFLICT", "This watch party is full.", "party_full")
        : refusal(404, "NOT_FOUND", "This watch party has ended.", "party_ended");
    }
    // A second socket of the same member (another tab, or a reconnect before the old one
    // noticed it was gone) takes over; the old one is told why, so it does not reconnect.
    for (const old of this.ctx.getWebSockets(joined.memberId)) {
      old.serializeAttachment({ memberId: joined.memberId, replaced: true });
      closeQuietly(old, PARTY_CLOSE.replaced, "connected elsewhere");
    }
    this.ctx.acceptWebSocket(server, [joined.memberId]);
    server.serializeAttachment({ memberId: joined.memberId } satisfies Attachment);
    this.#deliver(joined.out);
    this.#save();
    await this.#arm();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const room = this.#room;
    const attachment = ws.deserializeAttachment() as (Attachment & { replaced?: true }) | null;
    if (!room || !attachment || attachment.replaced) return;
    const now = Date.now();
    const result = room.message(attachment.memberId, message, now);
    // Leaving for good: this socket's close must not count as a drop.
    if (result.left) ws.serializeAttachment({ ...attachment, replaced: true });
    this.#deliver(result.out);
    if (result.close) closeQuietly(ws, result.close.code, result.close.reason);
    this.#save();
    await this.#arm();
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.#gone(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#gone(ws);
  }

  /** A socket closed without a `leave`: its member has reconnectGraceMs to come back. */
  async #gone(ws: WebSocket): Promise<void> {
    const room = this.#room;
    const attachment = ws.deserializeAttachment() as (Attachment & { replaced?: true }) | null;
    // Completes the closing handshake (a no-op where the runtime already answered the close).
    closeQuietly(ws, 1000, "closed");
    if (!room || !attachment || attachment.replaced) return;
    // Another socket of the same member still open: they are here.
    if (this.ctx.getWebSockets(attachment.memberId).some((other) => other !== ws && other.readyState === WebSocket.OPEN)) return;
    this.#deliver(room.drop(attachment.memberId, Date.now()));
    this.#save();
    await this.#arm();
  }

  override async alarm(): Promise<void> {
    this.#armedAt = null;
    await this.wake(Date.now());
  }

  /** What the alarm does at `nowMs`: graces that ran out, and the end of the party. (Tests pass a later time.) */
  async wake(nowMs: number): Promise<void> {
    const room = this.#room;
    if (!room) return;
    this.#deliver(room.tick(nowMs));
    if (room.isOver(nowMs)) {
      this.#room = null;
      for (const ws of this.ctx.getWebSockets()) closeQuietly(ws, PARTY_CLOSE.ended, "the party is over");
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.#armedAt = null;
      return;
    }
    this.#save();
    await this.#arm();
  }

  #save(): void {
    const room = this.#room;
    if (!room?.dirty) return;
    this.ctx.storage.kv.put(ROOM_KEY, room.data);
    room.dirty = false;
  }

  async #arm(): Promise<void> {
    const room = this.#room;
    if (!room) return;
    const at = room.nextWake();
    if (this.#armedAt === at) return;
    await this.ctx.storage.setAlarm(at);
    this.#armedAt = at;
  }

  /** Sends each message to the sockets it is addressed to, serialised once. */
  #deliver(out: Outgoing[]): void {
    if (out.length === 0) return;
    const sockets = this.ctx.getWebSockets();
    for (const item of out) {
      const text = JSON.stringify(item.message);
      const targets = "member" in item.to ? this.ctx.getWebSockets(item.to.member) : sockets;
      for (const ws of targets) {
        const attachment = ws.deserializeAttachment() as (Attachment & { replaced?: true }) | null;
        if (!attachment || attachment.replaced || !addressedTo(item, attachment.memberId)) continue;
        try {
          ws.send(text);
        } catch {
          // Closing already: its close handler will run.
        }
      }
    }
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

/** Why a socket was not let in: the api renders it as its standard error (workers/api/parties/). */
export type JoinRefusal = { code: "VALIDATION_FAILED" | "NOT_FOUND" | "FORBIDDEN" | "CONFLICT"; message: string; reason: string };

function refusal(status: number, code: JoinRefusal["code"], message: string, reason: string): Response {
  return Response.json({ code, message, reason } satisfies JoinRefusal, { status });
}
