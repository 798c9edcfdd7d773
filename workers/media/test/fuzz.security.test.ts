// Property-based fuzzing (fast-check) of the media Worker's playback paths
// `/p/{token}/{assetId}/…`: near-miss tokens (truncated, a character of the signature or
// the claims changed, claims that fail their schema under a valid signature, another key
// id, expired, another asset's), random and hostile paths, and junk Range and
// If-None-Match headers. Every refusal is a 4xx in the standard error body, never a 500;
// the few requests that are valid (a junk Range on a real file) get exactly what the
// range rules promise.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { errorBodySchema } from "../../../lib/errors.ts";
import { parsePlaybackKeys, verifyPlaybackToken } from "../../../lib/playback-token.ts";
import { base64UrlDecode, base64UrlEncode } from "../../../lib/base64url.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { parseRange } from "../delivery/range.ts";
import { etagFor } from "../delivery/serve-object.ts";
import { mediaClient, tokenFor } from "./helpers.ts";

const RUNS = 1000;
const ASSET = "fz-asset";
const MAX_HEIGHT = 480;

const asset = await seedSyntheticAsset(env.MEDIA, ASSET, { heights: [240, 480, 720] });
await seedSyntheticAsset(env.MEDIA, "fz-other", { heights: [240] });
const keys = await parsePlaybackKeys(env.PLAYBACK_TOKEN_KEYS);
const valid = await tokenFor({ assetId: ASSET, maxHeight: MAX_HEIGHT });
const [validPayload, validSig] = valid.split(".") as [string, string];
const validWire = JSON.parse(new TextDecoder().decode(base64UrlDecode(validPayload)!)) as Record<string, unknown>;
const otherKey = `k9:${base64UrlEncode(new Uint8Array(32).fill(7))}`;

/** Paths a viewer with this token may fetch: the manifests, the playlists of allowed tracks, and every listed file of them. */
const allowedTracks = new Set([...asset.index.video.filter((v) => Math.min(v.width, v.height) <= MAX_HEIGHT).map((v) => v.id), ...asset.index.audio.map((a) => a.id)]);
const videoTracks = new Set(asset.index.video.map((v) => v.id));
const servable = new Set([
  "master.m3u8",
  "manifest.mpd",
  ...[...allowedTracks].map((t) => `${t}/playlist.m3u8`),
  ...asset.index.subtitles.map((s) => `subs/${s.lang}.m3u8`),
  ...asset.index.files.map((f) => f.path).filter((p) => !videoTracks.has(p.split("/")[0]!) || allowedTracks.has(p.split("/")[0]!)),
]);

/**
 * Where a request really goes: the URL parser resolves `.`, `..` and their encodings
 * (`%2e%2e`) before any routing, so `/p/{t}/fz-other/%2e%2e/fz-asset/…` asks for fz-asset.
 */
function target(token: string, assetId: string, path: string): { assetId: string; path: string } | null {
  let pathname: string;
  try {
    pathname = new URL(`https://media.test/p/${token}/${assetId}/${path}`).pathname;
  } catch {
    return null;
  }
  const [, p, t, a, ...rest] = pathname.split("/");
  return p === "p" && t === token && a !== undefined ? { assetId: a, path: rest.join("/") } : null;
}

/** Whether a request with the valid token could name something servable, in any reading of its path: as routed, or decoded. */
function couldBeServable(assetId: string, path: string): boolean {
  const to = target(valid, assetId, path);
  if (!to || to.assetId !== ASSET) return false;
  const decoded = (s: string) => {
    try { return decodeURIComponent(s); } catch { return s; }
  };
  return [path, to.path, decoded(path), decoded(to.path)].some((p) => servable.has(p));
}

/** The HMAC of the token format, with the test's signing key: claims of any shape under a valid signature. */
async function signWire(wire: unknown, key = keys.signing.key): Promise<string> {
  const payload = base64UrlEncode(new TextEncoder().encode(JSON.stringify(wire) ?? "null"));
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload)));
  return `${payload}.${base64UrlEncode(signature)}`;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const flip = (text: string, at: number, by: number) => {
  const i = at % text.length;
  const c = B64[(B64.indexOf(text[i]!) + 1 + (by % 63)) % 64]!;
  return text.slice(0, i) + c + text.slice(i + 1);
};

const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 70 }), fc.integer(), fc.double(), fc.constantFrom(null, 0, -1, 4321, 1e308, "", "FZ-ASSET", "fz-other", "../fz-other", "a".repeat(65)));
const badWire = fc.oneof(
  fc.tuple(fc.constantFrom(...Object.keys(validWire), "x"), junk).map(([k, v]) => ({ ...validWire, [k]: v })),
  fc.constantFrom(...Object.keys(validWire)).map((k) => Object.fromEntries(Object.entries(validWire).filter(([key]) => key !== k))),
  fc.dictionary(fc.string({ maxLength: 3 }), junk, { maxKeys: 7 }),
  junk,
);

type TokenSpec =
  | { kind: "truncated"; at: number }
  | { kind: "sig-flip"; at: number; by: number }
  | { kind: "payload-flip"; at: number; by: number }
  | { kind: "bad-claims"; wire: unknown }
  | { kind: "other-kid" }
  | { kind: "expired"; ago: number }
  | { kind: "other-asset" }
  | { kind: "raw"; text: string };

const tokenSpec: fc.Arbitrary<TokenSpec> = fc.oneof(
  fc.nat().map((at) => ({ kind: "truncated" as const, at })),
  fc.tuple(fc.nat(), fc.nat()).map(([at, by]) => ({ kind: "sig-flip" as const, at, by })),
  fc.tuple(fc.nat(), fc.nat()).map(([at, by]) => ({ kind: "payload-flip" as const, at, by })),
  badWire.map((wire) => ({ kind: "bad-claims" as const, wire })),
  fc.constant({ kind: "other-kid" as const }),
  fc.integer({ min: 0, max: 10_000_000 }).map((ago) => ({ kind: "expired" as const, ago })),
  fc.constant({ kind: "other-asset" as const }),
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 80 }),
    fc.constantFrom(`${valid}.`, `.${valid}`, `${validPayload}.`, `.${validSig}`, `${valid}.${validSig}`, `${validPayload}..${validSig}`, `${valid}x`, "a".repeat(600), `${validPayload}.${validSig}=`, valid.toUpperCase(), "healthz"),
  ).map((text) => ({ kind: "raw" as const, text })),
);

async function tokenOf(spec: TokenSpec): Promise<string> {
  switch (spec.kind) {
    case "truncated":
      return valid.slice(0, spec.at % valid.length);
    case "sig-flip":
      return `${validPayload}.${flip(validSig, spec.at, spec.by)}`;
    case "payload-flip":
      return `${flip(validPayload, spec.at, spec.by)}.${validSig}`;
    case "bad-claims":
      return signWire(spec.wire);
    case "other-kid":
      return tokenFor({ assetId: ASSET, maxHeight: MAX_HEIGHT }, otherKey);
    case "expired":
      return tokenFor({ assetId: ASSET, maxHeight: MAX_HEIGHT, expiresAt: Math.floor(Date.now() / 1000) - spec.ago });
    case "other-asset":
      return tokenFor({ assetId: "fz-other", maxHeight: 2160 });
    case "raw":
      return spec.text;
  }
}

/** Anything a path can say: the real files and manifests, near misses of them, traversal, encodings, junk. */
const anyPath = fc.oneof(
  fc.constantFrom(...servable),
  fc.constantFrom(
    "720p/playlist.m3u8",
    "720p/init.m4s",
    "720p/1.m4s",
    "720p/2.m4s",
    "720p/3.m4s",
    "./720p/3.m4s",
    "240p/../720p/1.m4s",
    "1080p/playlist.m3u8",
    "240p/0.m4s",
    "240p/4.m4s",
    "240p/1.m4s/",
    "240p//1.m4s",
    "240p%2f1.m4s",
    "240p/1.m4s%00",
    "%2e%2e/fz-other/240p/1.m4s",
    "..%2ffz-other%2f240p%2f1.m4s",
    "thumbs/../index.json",
    "index.json",
    "subs/fr.m3u8",
    "subs/.m3u8",
    "subs/en.vtt.m3u8",
    "master.m3u8x",
    "MASTER.M3U8",
    "",
    "/",
    "%",
    "%zz",
  ),
  fc.string({ maxLength: 60 }).map((s) => s.replace(/[?#]/g, "")),
  fc.array(fc.oneof(fc.constantFrom("240p", "480p", "720p", "audio-en", "subs", "thumbs", "..", ".", "%2e%2e", ""), fc.string({ maxLength: 8 })), { maxLength: 4 }).map((parts) => parts.join("/").replace(/[?#]/g, "")),
);

/** Range and If-None-Match headers: junk, near misses of the syntax, and valid ones. */
const rangeHeader = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.tuple(fc.oneof(fc.nat(), fc.constant(""), fc.integer({ min: -10, max: -1 }), fc.constant(Number.MAX_SAFE_INTEGER)), fc.oneof(fc.nat(), fc.constant(""), fc.constant("9".repeat(25)))).map(([a, b]) => `bytes=${a}-${b}`),
  fc.constantFrom("bytes=", "bytes=-", "bytes=0-0,5-9", "bytes=5-1", "items=0-1", "bytes = 0 - 1", "bytes=-0", "bytes=999999-", "bytes=0x10-", "bytes=1e3-", "bytes=٣-"),
);
const etagHeader = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom("*", "W/*", '""', '"', "W/", '"abc", *', `"${"0".repeat(32)}"`, etagFor(asset.index.files[0]!), `W/${etagFor(asset.index.files[0]!)}`));
const headers = fc.record({ range: fc.option(rangeHeader, { nil: undefined }), inm: fc.option(etagHeader, { nil: undefined }), method: fc.constantFrom("GET", "GET", "HEAD") });

const seen = new Map<number, number>();
const reasons = new Map<string, number>();

async function expectRefused(result: { res: Response; text: () => string }, allowed: number[], what: string, method: string) {
  const { res } = result;
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  const text = result.text();
  const said = `${what} -> ${res.status} ${text.slice(0, 200)}`;
  expect(allowed, said).toContain(res.status);
  if (method === "HEAD") return;
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  const body = errorBodySchema.safeParse(json);
  expect(body.success, `not the standard error body: ${said}`).toBe(true);
  const reason = (body.data?.error.details as { reason?: string } | undefined)?.reason ?? body.data?.error.code ?? "";
  reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
}

const requestHeaders = (h: { range?: string | undefined; inm?: string | undefined }) => ({ ...(h.range === undefined ? {} : { Range: h.range }), ...(h.inm === undefined ? {} : { "If-None-Match": h.inm }) });

describe("fuzzed playback requests get a 4xx in the standard body, never a 500", () => {
  beforeEach(() => {
    seen.clear();
    reasons.clear();
  });
  afterEach(() => {
    const said = `statuses ${JSON.stringify([...seen].sort())}, reasons ${JSON.stringify([...reasons])}`;
    expect([...seen.values()].reduce((a, b) => a + b, 0), said).toBeGreaterThanOrEqual(RUNS);
    expect(seen.has(500), said).toBe(false);
  });

  it("near-miss tokens, on any path, with any Range and If-None-Match: 403 (404 only when the path is not a playback path at all)", async () => {
    const get = mediaClient();
    await fc.assert(
      fc.asyncProperty(tokenSpec, anyPath, headers, async (spec, path, h) => {
        const token = await tokenOf(spec);
        // A near miss that still verifies for the asset the URL really names (a changed last character
        // can decode to the same bytes; `%2e%2e/fz-other/…` names the other asset) is a valid token: skip it.
        const verdict = await verifyPlaybackToken(token, keys, Date.now() / 1000);
        const sent = encodeURIComponent(token);
        const to = target(sent, ASSET, path);
        fc.pre(!(verdict.ok && (to === null || verdict.claims.assetId === to.assetId)));
        const result = await get(`/p/${sent}/${ASSET}/${path}`, { method: h.method, headers: requestHeaders(h) });
        await expectRefused(result, [403, 404], `${spec.kind} token ${token.slice(0, 60)} path ${path.slice(0, 60)} ${JSON.stringify(h)}`, h.method);
      }),
      { numRuns: RUNS },
    );
    // Every way a token can be wrong was met, and refused for its own reason.
    for (const reason of ["malformed", "bad_signature", "unknown_key", "expired", "other_asset"]) expect(reasons.get(reason) ?? 0, `${reason}: ${JSON.stringify([...reasons])}`).toBeGreaterThanOrEqual(20);
  }, 120_000);

  it("a valid token with paths that name nothing it may fetch: 403 above its height, else 404", async () => {
    const get = mediaClient();
    await fc.assert(
      fc.asyncProperty(anyPath, headers, fc.constantFrom(ASSET, ASSET, ASSET, ASSET, ASSET, "fz-other", "no-such-asset", "FZ-ASSET"), async (path, h, inPath) => {
        // The asset in the path must be the token's (anything else is other_asset, 403).
        fc.pre(!couldBeServable(inPath, path));
        const result = await get(`/p/${valid}/${inPath}/${path}`, { method: h.method, headers: requestHeaders(h) });
        await expectRefused(result, [403, 404], `path ${inPath}/${path.slice(0, 80)} ${JSON.stringify(h)}`, h.method);
      }),
      { numRuns: RUNS },
    );
    expect(reasons.get("rendition_not_allowed") ?? 0, JSON.stringify([...reasons])).toBeGreaterThanOrEqual(20);
    expect(reasons.get("NOT_FOUND") ?? 0, JSON.stringify([...reasons])).toBeGreaterThanOrEqual(100);
  }, 120_000);

  it("a valid token and a real file with junk Range and If-None-Match: exactly the answer the range rules give", async () => {
    const get = mediaClient();
    const files = asset.index.files.filter((f) => servable.has(f.path));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...files), headers, async (file, h) => {
        const result = await get(`/p/${valid}/${ASSET}/${file.path}`, { method: h.method, headers: requestHeaders(h) });
        const { res, body } = result;
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const said = `${file.path} ${JSON.stringify(h)} -> ${res.status}`;
        const etag = etagFor(file);
        const notModified = h.inm !== undefined && h.inm.split(",").some((t) => ["*", etag].includes(t.trim().replace(/^W\//, "")));
        if (notModified) {
          expect(res.status, said).toBe(304);
          return;
        }
        const range = parseRange(h.range ?? null, file.bytes);
        const bytes = await asset.read(file.path);
        if (range.kind === "unsatisfiable") {
          expect(res.status, said).toBe(416);
          expect(res.headers.get("content-range"), said).toBe(`bytes */${file.bytes}`);
          if (h.method === "GET") expect(errorBodySchema.safeParse(JSON.parse(result.text())).success, said).toBe(true);
        } else if (range.kind === "range") {
          expect(res.status, said).toBe(206);
          expect(res.headers.get("content-range"), said).toBe(`bytes ${range.range.start}-${range.range.end}/${file.bytes}`);
          if (h.method === "GET") expect([...body], said).toEqual([...bytes.slice(range.range.start, range.range.end + 1)]);
        } else {
          expect(res.status, said).toBe(200);
          if (h.method === "GET") expect(body.length, said).toBe(file.bytes);
        }
      }),
      { numRuns: RUNS },
    );
    expect(seen.size, JSON.stringify([...seen])).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
