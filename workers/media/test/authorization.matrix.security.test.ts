// The media Worker's authorization matrix: every route of `createMediaApp()` (a route
// without a row fails the first test) — manifests, media playlists, subtitles, segments
// and the other listed files, also as HEAD, ranged and conditional requests — against
// every kind of playback token: none, an empty one, garbage, a tampered signature, an
// expired one, one for another asset, one signed with an unknown key, and ones whose
// maxHeight is below the rendition asked for (480) or below every rendition (144); and the
// valid token last, to show each URL does work. Refusals are 403 FORBIDDEN with
// `details.reason` in the standard error body, never publicly cacheable, and a refused
// token never reaches R2 (the refusals run first, on a cold cache).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorBodySchema, type ErrorCode } from "../../../lib/errors.ts";
import { base64UrlEncode } from "../../../lib/base64url.ts";
import { seedSyntheticAsset } from "../../../test-support/synthetic-asset.ts";
import { createMediaApp } from "../app.ts";
import { countingBucket, mediaClient, tokenFor } from "./helpers.ts";

const ASSET = "mx-asset";
const asset = await seedSyntheticAsset(env.MEDIA, ASSET, { heights: [240, 480, 720] });
await seedSyntheticAsset(env.MEDIA, "mx-other");

const now = Math.floor(Date.now() / 1000);
const valid = await tokenFor({ assetId: ASSET });
const [payload, signature] = valid.split(".") as [string, string];
/**
 * A signature changed where every bit counts (a middle character), and a canonical
 * sibling: the last character with only its unused low bits changed, which decodes to the
 * same bytes under a lenient decoder. Changing the last character was once "tampered",
 * and verified whenever the change hit only unused bits (1 run in 16 or so).
 */
const middle = signature.length >> 1;
const tamperedSignature = `${signature.slice(0, middle)}${signature[middle] === "A" ? "B" : "A"}${signature.slice(middle + 1)}`;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const siblingSignature = `${signature.slice(0, -1)}${B64[B64.indexOf(signature.at(-1)!) ^ 1]}`;

/** The tokens, in the order they are sent: every refusal before the valid token fills any cache. */
const TOKENS = ["none", "empty", "garbage", "tampered", "sibling", "expired", "otherAsset", "unknownKey", "belowAll", "below", "valid"] as const;
type TokenName = (typeof TOKENS)[number];

const tokens: Record<TokenName, { label: string; token: string | null }> = {
  none: { label: "no token (/p/{asset}/…)", token: null },
  empty: { label: "an empty token segment (/p//{asset}/…)", token: "" },
  garbage: { label: "a garbage token", token: "not-a-token" },
  tampered: { label: "a tampered signature", token: `${payload}.${tamperedSignature}` },
  sibling: { label: "a non-canonical spelling of the valid signature", token: `${payload}.${siblingSignature}` },
  expired: { label: "an expired token", token: await tokenFor({ assetId: ASSET, expiresAt: now - 1 }) },
  otherAsset: { label: "a token for another asset", token: await tokenFor({ assetId: "mx-other" }) },
  unknownKey: { label: "a token signed with an unknown key id", token: await tokenFor({ assetId: ASSET }, `k9:${base64UrlEncode(new Uint8Array(32).fill(7))}`) },
  belowAll: { label: "a token with maxHeight 144 (below every rendition)", token: await tokenFor({ assetId: ASSET, maxHeight: 144 }) },
  below: { label: "a token with maxHeight 480 (below 720p)", token: await tokenFor({ assetId: ASSET, maxHeight: 480 }) },
  valid: { label: "a valid token (maxHeight 2160)", token: valid },
};

type Refused = { refused: 403 | 404; code: ErrorCode; reason?: string };
type Answer = { status: number; shows?: string[]; hides?: string[] };
type Skip = { skip: string };
type Cell = Refused | Answer | Skip;

type Row = {
  route: string;
  name: string;
  method: "GET" | "HEAD" | "OPTIONS";
  /** The path after `/p/{token}/{assetId}/`, or a whole path for routes without a token. */
  file: string;
  /** The pathway's prefix: `p` unless said. */
  pathway?: string;
  headers?: Record<string, string>;
  cells: Record<TokenName, Cell>;
};

const forbidden = (reason: string): Refused => ({ refused: 403, code: "FORBIDDEN", reason });
const tooTall = forbidden("rendition_not_allowed");
/** What every bad token gets, whatever it asks for: the token is checked before anything else. */
const badTokens: Pick<Record<TokenName, Cell>, "none" | "empty" | "garbage" | "tampered" | "sibling" | "expired" | "otherAsset" | "unknownKey"> = {
  none: forbidden("malformed"),
  empty: { refused: 404, code: "NOT_FOUND" },
  garbage: forbidden("malformed"),
  tampered: forbidden("bad_signature"),
  sibling: forbidden("malformed"),
  expired: forbidden("expired"),
  otherAsset: forbidden("other_asset"),
  unknownKey: forbidden("unknown_key"),
};

/** Every pathway's prefix (lib/media-origins/pathways.ts): the primary's `/p/`, a replica's `/p2/`. */
const P = "/:pathway{p[2-9]?}/:token/:assetId";
const FILE = `GET ${P}/*`;
const ok: Answer = { status: 200 };

function playback(route: string, name: string, file: string, cells: Pick<Record<TokenName, Cell>, "valid" | "below" | "belowAll">, extra: Partial<Pick<Row, "method" | "headers" | "pathway">> = {}): Row {
  return { route, name, method: "GET", file, ...extra, cells: { ...badTokens, ...cells } };
}

function open(route: string, name: string, path: string): Row {
  const skip: Skip = { skip: "public: no token in its path" };
  const cells = Object.fromEntries(TOKENS.map((t) => [t, skip])) as Record<TokenName, Cell>;
  return { route, name, method: "GET", file: path, cells: { ...cells, valid: { status: 200, shows: ['"ok":true'] } } };
}

const etagOf = (path: string) => `"${asset.index.files.find((f) => f.path === path)!.sha256.slice(0, 32)}"`;

const rows: Row[] = [
  open("GET /healthz", "health", "/healthz"),
  open("GET /p/healthz", "health under /p", "/p/healthz"),
  {
    route: `OPTIONS ${P}/*`,
    name: "a CORS preflight (carries no credentials, answered for any token)",
    method: "OPTIONS",
    file: "720p/1.m4s",
    headers: { origin: "https://app.marquee.test", "access-control-request-method": "GET" },
    cells: { ...(Object.fromEntries(TOKENS.map((t) => [t, { status: 204 }])) as Record<TokenName, Cell>), empty: { refused: 404, code: "NOT_FOUND" } },
  },
  playback(`GET ${P}/master.m3u8`, "the HLS multivariant playlist", "master.m3u8", {
    valid: { status: 200, shows: ["720p/playlist.m3u8"] },
    below: { status: 200, shows: ["480p/playlist.m3u8"], hides: ["720p/"] },
    belowAll: tooTall,
  }),
  playback(`GET ${P}/hls-start.json`, "the HLS start bundle (the master and the playlists a player starts on)", "hls-start.json", {
    valid: { status: 200, shows: ["720p/playlist.m3u8", '"startVariant"'] },
    below: { status: 200, shows: ["480p/playlist.m3u8"], hides: ["720p/"] },
    belowAll: tooTall,
  }),
  playback(`GET ${P}/manifest.mpd`, "the DASH manifest", "manifest.mpd", {
    valid: { status: 200, shows: ['id="720p"'] },
    below: { status: 200, shows: ['id="480p"'], hides: ['id="720p"'] },
    belowAll: tooTall,
  }),
  playback(`GET ${P}/:track/playlist.m3u8`, "the 720p media playlist", "720p/playlist.m3u8", { valid: { status: 200, shows: ["init.m4s"] }, below: tooTall, belowAll: tooTall }),
  playback(`GET ${P}/:track/playlist.m3u8`, "the 240p media playlist", "240p/playlist.m3u8", { valid: ok, below: ok, belowAll: tooTall }),
  playback(`GET ${P}/:track/playlist.m3u8`, "the audio playlist", "audio-en/playlist.m3u8", { valid: ok, below: ok, belowAll: ok }),
  playback(`GET ${P}/subs/:playlist{[^/]+\\.m3u8}`, "the subtitles playlist", "subs/en.m3u8", { valid: { status: 200, shows: ["en.vtt"] }, below: ok, belowAll: ok }),
  playback(FILE, "a 720p init segment", "720p/init.m4s", { valid: ok, below: tooTall, belowAll: tooTall }),
  playback(FILE, "a 720p segment", "720p/1.m4s", { valid: ok, below: tooTall, belowAll: tooTall }),
  playback(FILE, "a 240p segment", "240p/2.m4s", { valid: ok, below: ok, belowAll: tooTall }),
  playback(FILE, "an audio segment", "audio-en/1.m4s", { valid: ok, below: ok, belowAll: ok }),
  playback(FILE, "the WebVTT subtitles", "subs/en.vtt", { valid: { status: 200, shows: ["WEBVTT"] }, below: ok, belowAll: ok }),
  playback(FILE, "the trick-play sprite", "thumbs/sprite.jpg", { valid: ok, below: ok, belowAll: ok }),
  playback(FILE, "the trick-play cues", "thumbs/thumbs.vtt", { valid: ok, below: ok, belowAll: ok }),
  playback(FILE, "the poster", "poster.jpg", { valid: ok, below: ok, belowAll: ok }),
  playback(FILE, "a 720p segment as HEAD (answered from the index, no I/O)", "720p/2.m4s", { valid: ok, below: tooTall, belowAll: tooTall }, { method: "HEAD" }),
  playback(FILE, "a range of a 720p segment", "720p/3.m4s", { valid: { status: 206 }, below: tooTall, belowAll: tooTall }, { headers: { range: "bytes=0-9" } }),
  playback(FILE, "a conditional request for a 240p segment (304 from the index)", "240p/3.m4s", { valid: { status: 304 }, below: { status: 304 }, belowAll: tooTall }, { headers: { "if-none-match": etagOf("240p/3.m4s") } }),
  playback(`GET ${P}/steering.hls.json`, "the HLS steering server", "steering.hls.json", { valid: { status: 200, shows: ['"PATHWAY-PRIORITY":["p"]'] }, below: ok, belowAll: ok }),
  playback(`GET ${P}/steering.dash.json`, "the DASH steering server", "steering.dash.json", { valid: { status: 200, shows: ['"SERVICE-LOCATION-PRIORITY":["p"]'] }, below: ok, belowAll: ok }),
  playback(FILE, "a 720p segment on the replica's pathway", "720p/2.m4s", { valid: ok, below: tooTall, belowAll: tooTall }, { pathway: "p2" }),
  playback(`GET ${P}/master.m3u8`, "the multivariant playlist on the replica's pathway", "master.m3u8", { valid: { status: 200, shows: ["720p/playlist.m3u8"] }, below: ok, belowAll: tooTall }, { pathway: "p2" }),
  {
    route: FILE,
    name: "a pathway no origin serves (judged before the token)",
    method: "GET",
    file: "720p/1.m4s",
    pathway: "p7",
    cells: Object.fromEntries(TOKENS.map((t) => [t, { refused: 404, code: "NOT_FOUND" }])) as Record<TokenName, Cell>,
  },
  playback(FILE, "a file the index does not list (the token is judged first)", "nothing.bin", { valid: { refused: 404, code: "NOT_FOUND" }, below: { refused: 404, code: "NOT_FOUND" }, belowAll: { refused: 404, code: "NOT_FOUND" } }),
];

function pathFor(row: Row, token: string | null): string {
  if (row.file.startsWith("/")) return row.file;
  const p = row.pathway ?? "p";
  return token === null ? `/${p}/${ASSET}/${row.file}` : `/${p}/${token}/${ASSET}/${row.file}`;
}

const { bucket, reads } = countingBucket(env.MEDIA);
const get = mediaClient({ bucket });

/** What is wrong with an answer, or null. */
function judge(cell: Refused | Answer, method: Row["method"], res: Response, text: string, r2Reads: string[]): string | null {
  if ("refused" in cell) {
    if (res.status !== cell.refused) return `status ${res.status}, expected ${cell.refused}`;
    if (/\bpublic\b|immutable/.test(res.headers.get("cache-control") ?? "")) return `a refusal that caches: ${res.headers.get("cache-control")}`;
    // Loading the asset (its index, skip segments and replica record) is not serving a file.
    const fileReads = r2Reads.filter((k) => !/\/(index|skip-segments|replicas)\.json$/.test(k));
    if (fileReads.length > 0) return `R2 read for a refusal: ${fileReads.join(", ")}`;
    if (cell.reason !== undefined && cell.reason !== "rendition_not_allowed" && r2Reads.length > 0) return `a bad token reached R2: ${r2Reads.join(", ")}`;
    if (method === "HEAD") return null; // no body to read
    let parsed;
    try {
      parsed = errorBodySchema.safeParse(JSON.parse(text));
    } catch {
      return "not JSON";
    }
    if (!parsed.success) return "not the standard error body";
    const { code, requestId, details } = parsed.data.error;
    if (code !== cell.code) return `code ${code}, expected ${cell.code}`;
    if (requestId === "" || requestId !== res.headers.get("x-request-id")) return `requestId ${requestId} is not X-Request-Id`;
    const reason = (details as { reason?: string } | undefined)?.reason;
    if (cell.reason !== undefined && reason !== cell.reason) return `details.reason ${JSON.stringify(reason)}, expected ${cell.reason}`;
    return null;
  }
  if (res.status !== cell.status) return `status ${res.status}, expected ${cell.status}`;
  for (const s of cell.shows ?? []) if (!text.includes(s)) return `the body lacks ${s}`;
  for (const s of cell.hides ?? []) if (text.includes(s)) return `the body contains ${s}`;
  return null;
}

describe("the media Worker's authorization matrix", () => {
  it("has a row for every route of the media Worker, and every row is one of its routes", () => {
    const enumerated = [...new Set(createMediaApp().routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))].sort();
    const covered = new Set(rows.map((r) => r.route));
    expect(enumerated.filter((r) => !covered.has(r)), "routes without a row in the matrix").toEqual([]);
    expect([...covered].filter((r) => !enumerated.includes(r)), "rows for routes that do not exist").toEqual([]);
    for (const row of rows) expect(Object.keys(row.cells).sort(), `${row.route}: every token is declared`).toEqual([...TOKENS].sort());
  });

  for (const row of rows) {
    it(`${row.method} ${row.file} — ${row.name}`, async () => {
      const wrong: string[] = [];
      for (const name of TOKENS) {
        const cell = row.cells[name];
        if ("skip" in cell) continue;
        reads.length = 0;
        const { res, text } = await get(pathFor(row, tokens[name].token), { method: row.method, ...(row.headers ? { headers: row.headers } : {}) });
        const body = text();
        const problem = judge(cell, row.method, res, body, [...reads]);
        if (problem) wrong.push(`${tokens[name].label}: ${problem} — ${res.status} ${body.slice(0, 200)}`);
      }
      expect(wrong).toEqual([]);
    });
  }
});
