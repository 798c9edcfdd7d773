// The zod schemas of what a watch party's members send, and the parser the party's
// Durable Object runs on every frame: size first, then JSON, then the schema, never
// throwing. The types they produce are lib/watch-party.ts's own (checked below), which is
// what the browser's client writes; zod itself stays on the server.
import { z } from "zod";
import { isPartyId, PARTY_LIMITS, PARTY_RATES, REACTIONS, type ClientMessage } from "./watch-party.ts";

export const partyIdSchema = z.string().max(26).refine(isPartyId, "a party id as this API gives them out");

const memberId = z.string().regex(/^m_[A-Za-z0-9_-]{8,16}$/);
const position = z.number().min(0).max(24 * 3600);
const clientClock = z.number().min(0).max(Number.MAX_SAFE_INTEGER);

export const clientMessageSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("ping"), c: clientClock }).strict(),
  z.object({ t: z.literal("play"), pos: position }).strict(),
  z.object({ t: z.literal("pause"), pos: position }).strict(),
  z.object({ t: z.literal("seek"), pos: position }).strict(),
  z.object({ t: z.literal("rate"), rate: z.literal(PARTY_RATES) }).strict(),
  z.object({ t: z.literal("state") }).strict(),
  z.object({ t: z.literal("heartbeat"), pos: position, buffering: z.boolean() }).strict(),
  z.object({ t: z.literal("reaction"), emoji: z.enum(REACTIONS) }).strict(),
  z.object({ t: z.literal("leave") }).strict(),
  z.object({ t: z.literal("settings"), control: z.enum(["host", "everyone"]).optional(), waitForEveryone: z.boolean().optional() }).strict(),
  z.object({ t: z.literal("host"), to: memberId }).strict(),
]) satisfies z.ZodType<ClientMessage>;

// Both ways: every message the schema accepts is a ClientMessage, and every kind of ClientMessage has a schema.
type Parsed = z.infer<typeof clientMessageSchema>;
const _sameKinds: [Parsed["t"], ClientMessage["t"]] extends [ClientMessage["t"], Parsed["t"]] ? true : never = true;
void _sameKinds;

/** What the object does with a frame a socket sent: the message, or why it is refused. Never throws. */
export function parseClientMessage(data: string | ArrayBuffer): { ok: true; message: ClientMessage } | { ok: false; code: "INVALID" | "TOO_LARGE"; message: string } {
  if (typeof data !== "string") return { ok: false, code: "INVALID", message: "Messages are JSON text, not binary." };
  if (data.length > PARTY_LIMITS.maxMessageChars) return { ok: false, code: "TOO_LARGE", message: `Messages are at most ${PARTY_LIMITS.maxMessageChars} characters.` };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, code: "INVALID", message: "A message is one JSON object." };
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, code: "INVALID", message: `Not a message of this protocol: ${parsed.error.issues[0]?.message ?? "invalid"}.` };
  return { ok: true, message: parsed.data };
}
