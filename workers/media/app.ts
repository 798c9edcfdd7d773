// The media Worker's HTTP application: health, and the playback paths
// `/p/{token}/{assetId}/…` — manifests generated from the rendition index, and every file
// the index lists, from R2 through the Cache API — the same under each replica's pathway
// (`/p2/{token}/…`), with the steering server that tells players which pathway to use
// (steering/, docs/media-origin.md).
import { Hono, type Context } from "hono";
import { edgeCache } from "../../lib/bindings/guard.ts";
import { errorResponse } from "../../lib/errors.ts";
import { health, installBase } from "../../lib/http.ts";
import { log } from "../../lib/log.ts";
import { base64UrlEncode } from "../../lib/base64url.ts";
import { HLS_START_FILE, INIT_INLINE_MAX_BYTES, startingPoint, type HlsStart } from "../../lib/hls-start.ts";
import { contentTypeFor, mediaKeys } from "../../lib/media-layout.ts";
import { parsePlaybackKeys, verifyPlaybackToken, type PlaybackClaims, type PlaybackKeys } from "../../lib/playback-token.ts";
import { IndexStore, liveTtlMs, type IndexSource, type LoadedIndex } from "./delivery/index-store.ts";
import type { FileInfo } from "./delivery/index-store.ts";
import { serveObject, type ServeObject } from "./delivery/serve-object.ts";
import { SingleFlight } from "./delivery/single-flight.ts";
import { dashManifest } from "./manifests/dash.ts";
import { mediaPlaylist, multivariantPlaylist, subtitlePlaylist } from "./manifests/hls.ts";
import { allowedVideo, isTrackAllowed } from "./manifests/ladder.ts";
import { cors } from "./playback/cors.ts";
import { sessionShare, readCmcd } from "./qoe/cmcd.ts";
import { CmcdSink, DEFAULT_BATCH_MS } from "./qoe/cmcd-sink.ts";
import { viewerCountry } from "../../lib/viewer-country.ts";
import { mediaOrigins, type MediaOrigin } from "../../lib/media-origins/origins.ts";
import { PRIMARY_PATHWAY } from "../../lib/media-origins/pathways.ts";
import { VerifiedTokens } from "./playback/verified-tokens.ts";
import type { ManifestPathways } from "./manifests/pathways.ts";
import { choosePathways, steeringTtl, type SteeringChoice } from "./steering/choose.ts";
import { OriginHealth } from "./steering/origin-health.ts";
import { PolicyStore } from "./steering/policy-store.ts";
import { hlsSteeringManifest, steeringResponse } from "./steering/respond.ts";

export type MediaAppEnv = {
  Bindings: MediaEnv;
  Variables: { claims: PlaybackClaims; asset: LoadedIndex; indexSource: IndexSource };
};

type PlaybackContext = Context<MediaAppEnv>;

const IMMUTABLE = "public, max-age=31536000, immutable";
/** Manifests differ per token (the plan's ladder) and are cheap to make again. */
const MANIFEST_CACHE = "private, max-age=30";

const forbiddenMessages = {
  malformed: "The playback token is not valid.",
  unknown_key: "The playback token was signed with a key that is no longer accepted.",
  bad_signature: "The playback token is not valid.",
  expired: "The playback token has expired; start playback again.",
} as const;

export type MediaAppOptions = {
  r2TimeoutMs?: number | undefined;
  /** How long an isolate gathers CMCD records before one Queue message (qoe/cmcd-sink.ts). */
  cmcdBatchMs?: number | undefined;
};

/** The share of CMCD sessions kept for the D1 timeline (CMCD_TIMELINE_SAMPLE, 0..1; default all). */
function timelineSample(value: string | undefined): number {
  const n = value === undefined || value === "" ? 1 : Number(value);
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 1;
}

export function createMediaApp(options: MediaAppOptions = {}) {
  const app = installBase(new Hono<MediaAppEnv>(), {
    accessLogLevel: (res) => (res.ok && res.headers.get("X-Cache") === "HIT" ? "debug" : "info"),
  });
  // State of this isolate: parsed keys, verified tokens, loaded indexes, cache fills under way.
  let keys: { spec: string; parsed: Promise<PlaybackKeys> } | undefined;
  const verified = new VerifiedTokens();
  const indexes = new IndexStore();
  const fills = new SingleFlight<boolean>();
  const cmcd = new CmcdSink(options.cmcdBatchMs ?? DEFAULT_BATCH_MS);
  const originHealth = new OriginHealth();
  const policies = new PolicyStore();

  const playbackKeys = (spec: string) => {
    if (keys?.spec !== spec) keys = { spec, parsed: parsePlaybackKeys(spec) };
    return keys.parsed;
  };

  // `/p/healthz` is reachable where only `/p/*` is routed to this Worker (dev forwarding,
  // path routes); no playback token is ever the word "healthz".
  app.on("GET", ["/healthz", "/p/healthz"], (c) => c.json(health("marquee-media", c.env)));

  // Every pathway's prefix: `p` (the primary), `p2` … `p9` (lib/media-origins/pathways.ts).
  const PLAYBACK = "/:pathway{p[2-9]?}/:token/:assetId";
  app.use(`${PLAYBACK}/*`, cors);
  app.options(`${PLAYBACK}/*`, (c) => c.body(null, 204));

  app.use(`${PLAYBACK}/*`, async (c, next) => {
    if (!mediaOrigins(c.env).byPathway.has(c.req.param("pathway"))) return errorResponse(c, "NOT_FOUND", "No such pathway.");
    const token = c.req.param("token");
    const keySpec = c.env.PLAYBACK_TOKEN_KEYS;
    const nowSeconds = Date.now() / 1000;
    const verdict = verified.get(keySpec, token, nowSeconds) ?? (await verifyPlaybackToken(token, await playbackKeys(keySpec), nowSeconds));
    if (verdict.ok) verified.remember(keySpec, token, verdict.claims);
    if (!verdict.ok) return errorResponse(c, "FORBIDDEN", forbiddenMessages[verdict.reason], { details: { reason: verdict.reason } });
    if (verdict.claims.assetId !== c.req.param("assetId")) {
      return errorResponse(c, "FORBIDDEN", "The playback token is for another title.", { details: { reason: "other_asset" } });
    }
    let asset: LoadedIndex | null;
    try {
      asset = await indexes.get(mediaOrigins(c.env).all, edgeCache(c.env), new URL(c.req.url).origin, verdict.claims.assetId, (p) => c.executionCtx.waitUntil(p), (source) => c.set("indexSource", source));
    } catch (err) {
      log("error", { event: "dependency_failed", requestId: c.get("requestId"), dependency: "r2", message: `index of ${verdict.claims.assetId}: ${err}` });
      return errorResponse(c, "UNAVAILABLE", "The title's media index could not be read; try again.", { headers: { "Retry-After": "2" } });
    }
    if (!asset) return errorResponse(c, "NOT_FOUND", "No such title media.");
    c.set("claims", verdict.claims);
    c.set("asset", asset);
    recordCmcd(c, verdict.claims);
    await next();
  });

  /**
   * CMCD on a request that passed the token check, stamped with what the token says (the
   * stream and asset the client cannot choose). Never fails the request, and never
   * reaches the cache key: serveObject keys the cache by R2 key alone.
   */
  function recordCmcd(c: PlaybackContext, claims: PlaybackClaims): void {
    const url = new URL(c.req.url);
    const fields = readCmcd(url, c.req.raw.headers);
    if (!fields) return;
    if (sessionShare(fields.sid ?? claims.sessionId) >= timelineSample(c.env.CMCD_TIMELINE_SAMPLE)) return;
    const prefix = `/${c.req.param("pathway")}/${c.req.param("token")}/${claims.assetId}/`;
    cmcd.add(c.env, c.executionCtx, {
      id: crypto.randomUUID(),
      streamId: claims.sessionId,
      assetId: claims.assetId,
      maxHeight: claims.maxHeight,
      country: viewerCountry(c.req.raw),
      receivedAt: Date.now(),
      object: url.pathname.slice(prefix.length).slice(0, 128),
      cmcd: fields,
    });
  }

  /** A live manifest is good for as long as the state it was made from (about half a segment). */
  const text = (c: PlaybackContext, body: string, contentType: string) => {
    const live = c.get("asset").live;
    if (!live) return c.body(body, 200, { "Content-Type": contentType, "Cache-Control": MANIFEST_CACHE });
    // X-Live-State: where this manifest's state came from (memory, flight, cache, r2), the
    // way X-Cache says it of a segment: bench:live counts the R2 reads per segment with it.
    return c.body(body, 200, { "Content-Type": contentType, "Cache-Control": `private, max-age=${Math.ceil(liveTtlMs(live) / 1000)}`, "X-Live-State": c.get("indexSource") ?? "memory" });
  };

  const tooTall = (c: PlaybackContext) =>
    errorResponse(c, "FORBIDDEN", "This rendition is above what your plan allows.", { details: { reason: "rendition_not_allowed" } });

  /**
   * Which pathways this viewer should use, best first, and for how long: the operator's
   * policy for their country, then this location's view of each origin's health.
   */
  async function steeringChoice(c: PlaybackContext): Promise<SteeringChoice> {
    const origins = mediaOrigins(c.env);
    const complete = c.get("asset").pathways;
    const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
    const [unhealthy, policy] = await Promise.all([
      originHealth.failing(origins.all.filter((o) => complete.includes(o.pathway)), edgeCache(c.env), new URL(c.req.url).origin, waitUntil),
      policies.get(origins.all, waitUntil),
    ]);
    return choosePathways({ complete, unhealthy, country: viewerCountry(c.req.raw), policy, ttlSeconds: steeringTtl(c.env.STEERING_TTL_SECONDS) });
  }

  /**
   * An asset on more than one pathway: what its manifests need to offer them all, and the
   * steering choice they start players on; else none.
   */
  async function manifestPathways(c: PlaybackContext, format: "hls" | "dash"): Promise<{ pathways: ManifestPathways; choice: SteeringChoice } | undefined> {
    const ids = c.get("asset").pathways;
    if (ids.length < 2) return undefined;
    const choice = await steeringChoice(c);
    const rest = `${c.req.param("token")}/${c.req.param("assetId")}/`;
    const current = c.req.param("pathway") ?? PRIMARY_PATHWAY;
    return { pathways: { ids, initial: choice.priority[0]!, current, base: (id) => `/${id}/${rest}`, serverUri: `/${current}/${rest}steering.${format}.json` }, choice };
  }

  /** The origins a file of this request is read from: its pathway's, then every other the asset is complete on. */
  function readOrder(c: PlaybackContext): MediaOrigin[] {
    const { byPathway } = mediaOrigins(c.env);
    const complete = c.get("asset").pathways;
    const requested = c.req.param("pathway") ?? PRIMARY_PATHWAY;
    const ids = complete.includes(requested) ? [requested, ...complete.filter((id) => id !== requested)] : complete;
    return ids.map((id) => byPathway.get(id)!);
  }

  /**
   * The HLS multivariant playlist within the token's height (steered on demand) and, when
   * steered, the choice it starts players on; null if no rendition is within the height.
   */
  async function hlsMaster(c: PlaybackContext): Promise<{ text: string; steering: SteeringChoice | null } | null> {
    const { index, live } = c.get("asset");
    const { maxHeight } = c.get("claims");
    if (allowedVideo(index, maxHeight).length === 0) return null;
    const steered = live ? undefined : await manifestPathways(c, "hls");
    return { text: multivariantPlaylist(index, maxHeight, steered?.pathways), steering: steered?.choice ?? null };
  }

  /** How a file of the asset is served: from this location's cache, else its origins in readOrder. */
  const fileOf = (c: PlaybackContext, assetId: string, path: string, info: FileInfo): ServeObject => ({
    key: mediaKeys.file(assetId, path),
    info,
    contentType: contentTypeFor(path),
    cacheControl: IMMUTABLE,
    origins: readOrder(c),
    cache: edgeCache(c.env),
    cacheOrigin: new URL(c.req.url).origin,
    fills,
    r2TimeoutMs: options.r2TimeoutMs,
  });

  /**
   * The init segment (EXT-X-MAP) of one of the bundle's media playlists, for the bundle:
   * its URI against the master's URL and its bytes, read as a viewer's request would read
   * it (cache, then origins). Null when the playlist has none, it is a byte range or over
   * INIT_INLINE_MAX_BYTES, or the read fails: the player then fetches it as usual.
   */
  async function inlineInit(c: PlaybackContext, playlist: { uri: string; text: string }): Promise<HlsStart["inits"][number] | null> {
    const map = playlist.text.split("\n").find((l) => l.startsWith("#EXT-X-MAP:"));
    const mapUri = map && !map.includes("BYTERANGE=") ? /URI="([^"]{1,256})"/.exec(map)?.[1] : undefined;
    if (!mapUri) return null;
    const here = new URL(c.req.url);
    const target = new URL(mapUri, new URL(playlist.uri, here));
    // `/{pathway}/{token}/{assetId}/{path}`: a file of this asset, on whichever pathway.
    const [, assetId, path] = /^\/p[2-9]?\/[^/]+\/([^/]+)\/(.+)$/.exec(target.pathname) ?? [];
    const info = assetId && path && assetId === c.req.param("assetId") && target.origin === here.origin ? c.get("asset").files.get(path) : undefined;
    if (!info || info.bytes > INIT_INLINE_MAX_BYTES) return null;
    try {
      const res = await serveObject(c, fileOf(c, assetId!, path!, info));
      const bytes = res.status === 200 ? new Uint8Array(await res.arrayBuffer()) : null;
      if (!bytes) await res.body?.cancel();
      if (!bytes || bytes.byteLength !== info.bytes) return null;
      const folder = new URL("./", here).pathname;
      return { uri: target.pathname.startsWith(folder) ? target.pathname.slice(folder.length) : target.pathname, data: base64UrlEncode(bytes) };
    } catch {
      return null;
    }
  }

  app.get(`${PLAYBACK}/master.m3u8`, async (c) => {
    const master = await hlsMaster(c);
    return master === null ? tooTall(c) : text(c, master.text, contentTypeFor("master.m3u8"));
  });

  // The start bundle (lib/hls-start.ts): the multivariant playlist, the media playlists a
  // player starts on, their init segments and the steering manifest, in one answer, for
  // the api to inline in the Play response.
  app.get(`${PLAYBACK}/${HLS_START_FILE}`, async (c) => {
    const { index, live, skip } = c.get("asset");
    if (live) return errorResponse(c, "NOT_FOUND", "A live event's playlists change every segment: it has no start bundle.");
    const { maxHeight } = c.get("claims");
    const steered = await hlsMaster(c);
    if (steered === null) return tooTall(c);
    const master = steered.text;
    const start = startingPoint(master);
    if (!start) return errorResponse(c, "NOT_FOUND", "No variant to start on.");
    const playlists = start.uris.flatMap((uri) => {
      const track = /(?:^|\/)([^/]+)\/playlist\.m3u8$/.exec(uri)?.[1];
      const text = track === undefined || !isTrackAllowed(index, track, maxHeight) ? null : mediaPlaylist(index, track, undefined, skip);
      return text === null ? [] : [{ uri, text }];
    });
    const inits = (await Promise.all(playlists.map((p) => inlineInit(c, p)))).filter((i) => i !== null);
    const bundle: HlsStart = { master, startVariant: start.variant, playlists, inits, steering: steered.steering && hlsSteeringManifest(steered.steering) };
    return c.json(bundle, 200, { "Cache-Control": MANIFEST_CACHE });
  });

  app.get(`${PLAYBACK}/manifest.mpd`, async (c) => {
    const { index, live, skip } = c.get("asset");
    if (allowedVideo(index, c.get("claims").maxHeight).length === 0) return tooTall(c);
    const dynamic = live ? { ...live, nowMs: Date.now() } : undefined;
    const pathways = live ? undefined : (await manifestPathways(c, "dash"))?.pathways;
    return text(c, dashManifest(index, c.get("claims").maxHeight, dynamic, skip, pathways), contentTypeFor("manifest.mpd"));
  });

  // The steering server (HLS Content Steering, DASH-IF Content Steering): the pathway
  // priority and how long it holds. Players add their current pathway and throughput as
  // `_HLS_pathway` / `_DASH_pathway` and `_…_throughput`; the choice does not depend on them.
  app.get(`${PLAYBACK}/steering.hls.json`, async (c) => steeringResponse("hls", await steeringChoice(c)));
  app.get(`${PLAYBACK}/steering.dash.json`, async (c) => steeringResponse("dash", await steeringChoice(c)));

  app.get(`${PLAYBACK}/subs/:playlist{[^/]+\\.m3u8}`, (c) => {
    const playlist = subtitlePlaylist(c.get("asset").index, c.req.param("playlist").slice(0, -".m3u8".length));
    return playlist === null ? errorResponse(c, "NOT_FOUND", "No such subtitles.") : text(c, playlist, contentTypeFor("x.m3u8"));
  });

  app.get(`${PLAYBACK}/:track/playlist.m3u8`, (c) => {
    const { index, live, skip } = c.get("asset");
    const track = c.req.param("track");
    const playlist = mediaPlaylist(index, track, live ?? undefined, skip);
    if (playlist === null) return errorResponse(c, "NOT_FOUND", "No such rendition.");
    if (!isTrackAllowed(index, track, c.get("claims").maxHeight)) return tooTall(c);
    return text(c, playlist, contentTypeFor("x.m3u8"));
  });

  // Every other file is served only if the index lists it: nothing else in the bucket is
  // reachable, whatever the path says.
  app.get(`${PLAYBACK}/*`, (c) => {
    const { index, files } = c.get("asset");
    const assetId = c.req.param("assetId");
    const prefix = `/${c.req.param("pathway")}/${c.req.param("token")}/${assetId}/`;
    const path = c.req.path.slice(prefix.length);
    const info = files.get(path);
    if (!info) return errorResponse(c, "NOT_FOUND", "No such file in this title's media.");
    const folder = path.split("/")[0]!;
    const isVideoTrack = index.video.some((v) => v.id === folder);
    if (isVideoTrack && !isTrackAllowed(index, folder, c.get("claims").maxHeight)) return tooTall(c);
    return serveObject(c, fileOf(c, assetId, path, info));
  });

  return app;
}
