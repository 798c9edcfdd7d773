// Where an HLS player starts, and the start bundle: the multivariant playlist with the
// media playlists a player starts on, their init segments and the steering manifest, in
// one answer. The media Worker writes the bundle
// (`GET …/hls-start.json`); the api Worker fetches it once over the service binding and
// inlines it in the Play response (workers/api/playback/playback-urls.ts), so a player
// goes from the Play answer straight to its first segments.
import { z } from "zod";
import { base64UrlDecode } from "./base64url.ts";

/**
 * The bandwidth a stream starts at: what hls.js starts on when nothing says otherwise (its
 * 500 kbit/s default estimate × its 0.95 safety factor), so a player told to start on the
 * variant chosen here starts where it would have anyway — with that variant's playlist
 * already in hand. ABR moves up from there within seconds.
 */
export const START_BANDWIDTH_BPS = 475_000;

export type StartingPoint = {
  /** The start variant's index among the variants sorted by height, then bandwidth (hls.js's level order). */
  variant: number;
  /** Relative URIs, as the playlist writes them: the start variant's playlist, and its audio group's default. */
  uris: string[];
};

/**
 * Where a player starts in a multivariant playlist (our own, from the media Worker: one
 * attribute list per line). With content steering, among the variants of the pathway the
 * playlist starts players on (`EXT-X-CONTENT-STEERING`'s PATHWAY-ID): hls.js's levels are
 * that pathway's alone, so the index is into those.
 */
export function startingPoint(master: string): StartingPoint | null {
  const lines = master.split("\n").map((l) => l.trim());
  const steering = lines.find((l) => l.startsWith("#EXT-X-CONTENT-STEERING:"));
  const initial = steering ? /PATHWAY-ID="([^"]{1,64})"/.exec(steering)?.[1] : undefined;
  const variants: { height: number; bandwidth: number; uri: string; audio: string | undefined }[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith("#EXT-X-STREAM-INF:")) return;
    if (initial !== undefined && (/PATHWAY-ID="([^"]{1,64})"/.exec(line)?.[1] ?? ".") !== initial) return;
    const uri = lines.slice(i + 1).find((l) => l !== "" && !l.startsWith("#"));
    if (!uri) return;
    variants.push({
      height: Number(/RESOLUTION=\d{1,5}x(\d{1,5})/.exec(line)?.[1] ?? 0),
      bandwidth: Number(/(?:^|[:,])BANDWIDTH=(\d{1,10})/.exec(line)?.[1] ?? 0),
      uri,
      audio: /AUDIO="([^"]{1,64})"/.exec(line)?.[1],
    });
  });
  if (variants.length === 0) return null;
  variants.sort((a, b) => a.height - b.height || a.bandwidth - b.bandwidth);
  let variant = 0;
  variants.forEach((v, i) => {
    if (v.bandwidth <= START_BANDWIDTH_BPS) variant = i;
  });
  const chosen = variants[variant]!;
  const audio = chosen.audio
    ? lines.find((l) => l.startsWith("#EXT-X-MEDIA:") && l.includes("TYPE=AUDIO") && l.includes(`GROUP-ID="${chosen.audio}"`) && l.includes("DEFAULT=YES"))
    : undefined;
  const audioUri = audio ? /URI="([^"]{1,256})"/.exec(audio)?.[1] : undefined;
  return { variant, uris: [chosen.uri, ...(audioUri ? [audioUri] : [])] };
}

/** The file name of the start bundle, beside `master.m3u8`. */
export const HLS_START_FILE = "hls-start.json";

/** A playlist's size bound in the bundle: the demo's are under 2 KB, a 3-hour film's about 60 KB. */
const PLAYLIST_MAX_CHARS = 256 * 1024;

/**
 * An init segment's size bound in the bundle: the demo's are under 1 KB, and a typical
 * fMP4 init (one track's codec configuration) a few KB. A larger one is left out, and the
 * player fetches it as it would anyway.
 */
export const INIT_INLINE_MAX_BYTES = 16 * 1024;
/** The characters of INIT_INLINE_MAX_BYTES in unpadded base64url. */
const INIT_INLINE_MAX_CHARS = Math.ceil((INIT_INLINE_MAX_BYTES * 4) / 3);

/**
 * The HLS steering manifest (RFC 8216bis §7.2) the master's steering server would answer
 * now: the same keys as `workers/media/steering/respond.ts` writes, and no others.
 */
export const steeringManifestSchema = z
  .object({
    VERSION: z.literal(1),
    TTL: z.number().int().min(1).max(86_400),
    "PATHWAY-PRIORITY": z.array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/)).min(1).max(16),
  })
  .strict();
export type SteeringManifest = z.infer<typeof steeringManifestSchema>;

/**
 * The start bundle: the multivariant playlist, the start variant's index (StartingPoint),
 * the media playlists at the starting point's URIs, each as the master writes its URI, the
 * init segments (EXT-X-MAP) of those playlists, and, for a steered master, the steering
 * manifest its SERVER-URI would answer. An init's `uri` resolves against the master's URL,
 * as the playlists' do; its bytes are unpadded base64url, canonical (lib/base64url.ts).
 * `inits` and `steering` default to none, so an api newer than its media Worker reads an
 * older bundle.
 */
export const hlsStartSchema = z
  .object({
    master: z.string().max(PLAYLIST_MAX_CHARS),
    startVariant: z.number().int().min(0).max(255),
    playlists: z.array(z.object({ uri: z.string().min(1).max(512), text: z.string().max(PLAYLIST_MAX_CHARS) }).strict()).max(2),
    inits: z
      .array(
        z
          .object({
            uri: z.string().min(1).max(512),
            data: z
              .string()
              .min(1)
              .max(INIT_INLINE_MAX_CHARS)
              .refine((d) => base64UrlDecode(d) !== null, "not canonical base64url"),
          })
          .strict(),
      )
      .max(2)
      .default([]),
    steering: steeringManifestSchema.nullable().default(null),
  })
  .strict();
export type HlsStart = z.infer<typeof hlsStartSchema>;
