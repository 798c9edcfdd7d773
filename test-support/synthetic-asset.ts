// Packaged assets built in memory for tests: a valid rendition index over synthetic
// files, seeded into R2 through the same code `npm run seed` uses.
import type { AudioTrack, RenditionIndex, VideoRendition } from "../lib/media-index.ts";
import { seedAsset } from "../tools/seed/demo-media.ts";

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Deterministic bytes that differ per file, so a mixed-up response cannot pass. */
function filler(seed: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

export type SyntheticAsset = {
  index: RenditionIndex;
  indexBytes: Uint8Array;
  files: Map<string, Uint8Array>;
  read: (path: string) => Promise<Uint8Array>;
};

export async function syntheticAsset(
  assetId: string,
  options: { heights?: number[]; segments?: number; segmentBytes?: number; initBytes?: number; audio?: boolean; extras?: boolean; portrait?: boolean } = {},
): Promise<SyntheticAsset> {
  const heights = options.heights ?? [240, 720];
  const segments = options.segments ?? 3;
  const segmentBytes = options.segmentBytes ?? 2048;
  const files = new Map<string, Uint8Array>();
  let seed = 1;
  const track = (id: string) => {
    files.set(`${id}/init.m4s`, filler(seed++, options.initBytes ?? 64));
    for (let n = 1; n <= segments; n++) files.set(`${id}/${n}.m4s`, filler(seed++, segmentBytes + n));
    return {
      id,
      bandwidth: (segmentBytes + segments) * 4,
      averageBandwidth: segmentBytes * 4,
      segments: {
        timescale: 1000,
        startNumber: 1,
        durations: Array.from({ length: segments }, () => 2000),
        bytes: Array.from({ length: segments }, (_, i) => segmentBytes + i + 1),
      },
    };
  };
  const video: VideoRendition[] = heights.map((h) => {
    // `h` is the resolution class (short side); portrait pictures are taller than wide.
    const long = Math.round((h * 16) / 9 / 2) * 2;
    return {
      ...track(`${h}p`),
      codecs: "avc1.64001f",
      width: options.portrait ? h : long,
      height: options.portrait ? long : h,
      frameRate: 24,
    };
  });
  const audio: AudioTrack[] =
    options.audio === false
      ? []
      : [{ ...track("audio-en"), codecs: "mp4a.40.2", lang: "en", name: "English", channels: 2, sampleRate: 48000, default: true }];
  const extras = options.extras !== false;
  if (extras) {
    files.set("poster.jpg", filler(seed++, 300));
    files.set("subs/en.vtt", new TextEncoder().encode("WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n"));
    files.set("thumbs/sprite.jpg", filler(seed++, 200));
    files.set("thumbs/thumbs.vtt", new TextEncoder().encode("WEBVTT\n\n00:00.000 --> 00:02.000\nsprite.jpg#xywh=0,0,160,90\n"));
  }
  const index: RenditionIndex = {
    version: 1,
    assetId,
    durationSec: segments * 2,
    segmentDurationSec: 2,
    video,
    audio,
    subtitles: extras ? [{ lang: "en", name: "English", path: "subs/en.vtt", default: false }] : [],
    thumbnails: extras ? { sprite: "thumbs/sprite.jpg", vtt: "thumbs/thumbs.vtt", width: 160, height: 90, intervalSec: 2 } : null,
    poster: extras ? "poster.jpg" : null,
    files: await Promise.all([...files].map(async ([path, bytes]) => ({ path, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) }))),
  };
  const read = async (path: string) => {
    const bytes = files.get(path);
    if (!bytes) throw new Error(`no file ${path}`);
    return bytes;
  };
  return { index, indexBytes: new TextEncoder().encode(JSON.stringify(index)), files, read };
}

/** Builds an asset and uploads it (index last) to the bucket. */
export async function seedSyntheticAsset(bucket: R2Bucket, assetId: string, options?: Parameters<typeof syntheticAsset>[1]) {
  const asset = await syntheticAsset(assetId, options);
  await seedAsset(bucket, asset);
  return asset;
}
