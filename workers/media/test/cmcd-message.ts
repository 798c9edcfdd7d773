// A CMCD Queue message as the media Worker sends it, checked against the shared schema.
import { qoeMessageSchema, type CmcdMessage } from "../../../lib/qoe.ts";

export function cmcdMessageOf(body: unknown): CmcdMessage {
  const message = qoeMessageSchema.parse(body);
  if (message.kind !== "cmcd") throw new Error(`expected a cmcd message, got ${message.kind}`);
  return message;
}
