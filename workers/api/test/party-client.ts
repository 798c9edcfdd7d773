// Watch parties from tests: creating one, and members' sockets that collect what the
// party's Durable Object tells them and wait for a particular message.
import { exports } from "cloudflare:workers";
import type { ServerMessage } from "../../../lib/watch-party.ts";
import { call } from "./auth-client.ts";

export type Created = { partyId: string; inviteUrl: string; expiresAt: string };

export async function createParty(headers: Record<string, string>, json: Record<string, unknown>): Promise<Created> {
  const res = await call("/v1/parties", { headers, json });
  if (res.status !== 201) throw new Error(`create party: ${res.status} ${await res.text()}`);
  return (await res.json()) as Created;
}

export function socketRequest(headers: Record<string, string>, partyId: string, playbackSessionId: string, extra: Record<string, string> = {}) {
  return exports.default.fetch(`https://marquee.test/v1/parties/${partyId}/socket?playbackSessionId=${encodeURIComponent(playbackSessionId)}`, {
    headers: { upgrade: "websocket", ...headers, ...extra },
  });
}

export type Socket = Awaited<ReturnType<typeof openSocket>>;

/** A member's open socket: `next(t)` waits for the next message of type `t` not read yet. */
export async function openSocket(headers: Record<string, string>, partyId: string, playbackSessionId: string) {
  const res = await socketRequest(headers, partyId, playbackSessionId);
  if (res.status !== 101 || !res.webSocket) throw new Error(`socket: ${res.status} ${await res.text()}`);
  const ws = res.webSocket;
  const inbox: ServerMessage[] = [];
  const raw: string[] = [];
  let wake: (() => void) | null = null;
  let closed: { code: number; reason: string } | null = null;
  ws.addEventListener("message", (e) => {
    const text = typeof e.data === "string" ? e.data : "";
    raw.push(text);
    // The keep-alive's answer is not JSON, nor a message of the protocol.
    if (text.startsWith("{")) inbox.push(JSON.parse(text) as ServerMessage);
    wake?.();
  });
  ws.addEventListener("close", (e) => {
    closed = { code: e.code, reason: e.reason };
    wake?.();
  });
  ws.accept();

  async function until<T>(find: () => T | undefined, what: string, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(inbox.map((m) => m.t))}, closed ${JSON.stringify(closed)}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
      wake = null;
    }
  }

  return {
    ws,
    inbox,
    raw,
    send: (message: unknown) => ws.send(typeof message === "string" ? message : JSON.stringify(message)),
    /** Takes the first unread message of type `t` (and matching `where`), waiting for it. */
    next<T extends ServerMessage["t"]>(t: T, where: (m: Extract<ServerMessage, { t: T }>) => boolean = () => true): Promise<Extract<ServerMessage, { t: T }>> {
      return until(() => {
        const i = inbox.findIndex((m) => m.t === t && where(m as Extract<ServerMessage, { t: T }>));
        return i < 0 ? undefined : (inbox.splice(i, 1)[0] as Extract<ServerMessage, { t: T }>);
      }, t);
    },
    closed: () => until(() => closed ?? undefined, "close"),
    isClosed: () => closed !== null,
  };
}
