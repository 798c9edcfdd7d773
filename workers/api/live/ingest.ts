// The broadcaster's uploads, as ffmpeg's HLS muxer PUTs them: per rendition an init segment
// (`init_N.mp4`), media segments (`{n}.m4s`) and its playlist (`index.m3u8`). The event's
// object checks the token and the rendition before any byte reaches R2; each file is read
// within its own bound, checked as fragmented MP4 (or as a playlist), and only then stored
// under the asset's layout (`{rendition}/init.m4s`, `{rendition}/{seq}.m4s`).
import type { Context } from "hono";
import type { Granted, Refusal } from "../../../durable-objects/live-event.ts";
import { ApiError } from "../../../lib/errors.ts";
import { LIVE_LIMITS } from "../../../lib/live/ladder.ts";
import { mediaKeys } from "../../../lib/media-layout.ts";
import { readBounded } from "../body-limits.ts";
import { callDurableObject } from "../bindings/durable-object-retry.ts";
import type { AppEnv } from "../env.ts";
import { Fmp4Error, parseInit, parseSegment } from "./fmp4.ts";
import { parseIngestPlaylist, PlaylistError, SEGMENT_NAME } from "./ingest-playlist.ts";
import { sha256Hex } from "../../../lib/hex.ts";
import { liveEventStub } from "./live-events.ts";

const INIT_NAME = /^init(?:_(?:0|[1-9]\d?))?\.mp4$/;
const TOKEN = /^Bearer (lvt_[A-Za-z0-9_-]{43})$/;

export type IngestFile = { kind: "init" } | { kind: "segment"; n: number } | { kind: "playlist" };

/** What a file name in the ingest folder is, or null for anything ffmpeg does not send. */
export function ingestFileOf(name: string): IngestFile | null {
  if (name === "index.m3u8") return { kind: "playlist" };
  if (INIT_NAME.test(name)) return { kind: "init" };
  const segment = SEGMENT_NAME.exec(name);
  return segment ? { kind: "segment", n: Number(segment[1]) } : null;
}

function refused(r: Refusal): never {
  throw new ApiError(r.code, r.message, r.code === "UNAUTHORIZED" ? { headers: { "WWW-Authenticate": 'Bearer realm="marquee-live-ingest"' } } : {});
}

/** The token's hash, or a 401 before anything else: a token is never stored, only its SHA-256. */
export async function ingestTokenHash(c: Context<AppEnv>): Promise<string> {
  const token = TOKEN.exec(c.req.header("authorization") ?? "")?.[1];
  if (!token) throw new ApiError("UNAUTHORIZED", "An ingest token is required: Authorization: Bearer <token from POST /v1/admin/live>.", { headers: { "WWW-Authenticate": 'Bearer realm="marquee-live-ingest"' } });
  return sha256Hex(token);
}

export async function ingestFile(c: Context<AppEnv>, liveId: string, rendition: string, file: IngestFile): Promise<Response> {
  const tokenHash = await ingestTokenHash(c);
  const requestId = c.get("requestId");
  const event = () => liveEventStub(c.env, liveId);
  // The stub's RPC types do not survive a union result; each call says what it answers.
  const call = <T>(what: string, fn: () => Promise<unknown>) => callDurableObject(`live event (${what})`, async () => (await fn()) as T, { requestId });
  const bad = async (message: string): Promise<never> => {
    await call("note", () => event().noteError(`${rendition}: ${message}`)).catch(() => undefined);
    throw new ApiError("BAD_REQUEST", message);
  };

  if (file.kind === "playlist") {
    const gate = await call<Granted<{ assetId: string }>>("authorize", () => event().authorize(tokenHash));
    if (!gate.ok) refused(gate);
    const text = new TextDecoder().decode(await readBounded(c.req.raw.body, LIVE_LIMITS.smallFileBytes));
    let entries;
    try {
      entries = parseIngestPlaylist(text).entries;
    } catch (err) {
      if (err instanceof PlaylistError) return bad(`playlist: ${err.message}`);
      throw err;
    }
    const result = await call<Granted<object>>("playlist", () => event().ingestPlaylist(tokenHash, rendition, entries));
    if (!result.ok) refused(result);
    return c.body(null, 204);
  }

  if (file.kind === "init") {
    const gate = await call<Granted<{ assetId: string }>>("authorize", () => event().authorize(tokenHash));
    if (!gate.ok) refused(gate);
    const bytes = await readBounded(c.req.raw.body, LIVE_LIMITS.smallFileBytes);
    let info;
    try {
      info = parseInit(bytes);
    } catch (err) {
      if (err instanceof Fmp4Error) return bad(`init segment: ${err.message}`);
      throw err;
    }
    const sha256 = await sha256Hex(bytes);
    const check = await call<Granted<{ assetId: string; write: boolean }>>("init", () => event().checkInit(tokenHash, rendition, info, sha256));
    if (!check.ok) refused(check);
    if (check.write) {
      await c.env.MEDIA.put(mediaKeys.init(check.assetId, rendition), bytes, { httpMetadata: { contentType: "video/mp4" }, customMetadata: { sha256 } });
      await call("init stored", () => event().initStored(rendition, info, sha256, bytes.byteLength));
    }
    return c.body(null, 201);
  }

  if (file.n > LIVE_LIMITS.maxSegmentNumber) return bad(`segment number ${file.n} is out of range`);
  const reserved = await call<Granted<{ assetId: string; seq: number; sampleDuration: number; duplicate?: true }>>("reserve", () => event().reserveSegment(tokenHash, rendition, file.n));
  if (!reserved.ok) refused(reserved);
  if (reserved.duplicate) {
    // Published already: what viewers have must not change under them.
    await c.req.raw.body?.cancel();
    return c.body(null, 201);
  }
  const bytes = await readBounded(c.req.raw.body, LIVE_LIMITS.segmentBytes);
  let parsed;
  try {
    parsed = parseSegment(bytes, reserved.sampleDuration);
  } catch (err) {
    if (err instanceof Fmp4Error) return bad(`segment ${file.n}: ${err.message}`);
    throw err;
  }
  const sha256 = await sha256Hex(bytes);
  await c.env.MEDIA.put(mediaKeys.segment(reserved.assetId, rendition, reserved.seq), bytes, { httpMetadata: { contentType: "video/iso.segment" }, customMetadata: { sha256 } });
  await call("stored", () => event().segmentStored(rendition, reserved.seq, { bytes: bytes.byteLength, sha256, decodeTime: parsed.decodeTime, samples: parsed.samples, duration: parsed.duration }));
  return c.body(null, 201);
}

/** ffmpeg's multivariant playlist: the token is checked, the body dropped (viewers' manifests are made from the segments). */
export async function acceptMasterPlaylist(c: Context<AppEnv>, liveId: string): Promise<Response> {
  const tokenHash = await ingestTokenHash(c);
  const gate = await callDurableObject("live event (authorize)", async () => (await liveEventStub(c.env, liveId).authorize(tokenHash)) as Granted<{ assetId: string }>, { requestId: c.get("requestId") });
  if (!gate.ok) refused(gate);
  await c.req.raw.body?.cancel();
  return c.body(null, 204);
}
