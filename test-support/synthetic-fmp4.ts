// Fragmented MP4 built in memory for the live ingest's tests: init segments (one H.264 or
// AAC track, with the boxes the ingest reads) and media segments (moof with tfhd, tfdt and
// trun, then mdat), shaped as ffmpeg's HLS muxer sends them, so a test can broadcast a
// synthetic stream of any length without ffmpeg.

function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const size = 8 + parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function u32(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v));
  return out;
}

function u16(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, v));
  return out;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const zeros = (n: number) => new Uint8Array(n);
const fullBox = (type: string, version: number, flags: number, ...parts: Uint8Array[]) => box(type, u32(((version & 0xff) << 24) | flags), ...parts);

export type SyntheticTrack =
  | { kind: "video"; width: number; height: number; timescale?: number }
  | { kind: "audio"; channels?: number; sampleRate?: number };

export function initSegment(track: SyntheticTrack): Uint8Array {
  const timescale = track.kind === "video" ? (track.timescale ?? 15360) : (track.sampleRate ?? 48000);
  const mdhd = fullBox("mdhd", 0, 0, u32(0, 0, timescale, 0), u16(0x55c4, 0));
  const hdlr = fullBox("hdlr", 0, 0, u32(0), new TextEncoder().encode(track.kind === "video" ? "vide" : "soun"), zeros(12), bytes(0));
  let entry: Uint8Array;
  if (track.kind === "video") {
    const avcC = box("avcC", bytes(1, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00, 0x00, 0x01, 0x00, 0x00));
    entry = box("avc1", zeros(6), u16(1), zeros(16), u16(track.width, track.height), u32(0x00480000, 0x00480000, 0), u16(1), zeros(32), u16(0x18, 0xffff), avcC);
  } else {
    // ES descriptor (tag 3) > decoder config (tag 4, MPEG-4 audio) > AudioSpecificConfig (tag 5, AAC LC).
    const dsi = bytes(0x05, 2, 0x11, 0x90);
    const config = bytes(0x04, 13 + dsi.byteLength, 0x40, 0x15, 0, 0, 0, 0, 0x01, 0xf4, 0, 0, 0x01, 0xf4, 0, ...dsi);
    const es = bytes(0x03, 3 + config.byteLength + 3, 0, 1, 0, ...config, 0x06, 1, 2);
    const esds = fullBox("esds", 0, 0, es);
    entry = box("mp4a", zeros(6), u16(1), zeros(8), u16(track.channels ?? 2, 16, 0, 0), u32((track.sampleRate ?? 48000) << 16), esds);
  }
  const stsd = fullBox("stsd", 0, 0, u32(1), entry);
  const stbl = box("stbl", stsd, fullBox("stts", 0, 0, u32(0)), fullBox("stsc", 0, 0, u32(0)), fullBox("stsz", 0, 0, u32(0, 0)), fullBox("stco", 0, 0, u32(0)));
  const minf = box("minf", stbl);
  const trak = box("trak", fullBox("tkhd", 0, 3, zeros(80)), box("mdia", mdhd, hdlr, minf));
  const mvex = box("mvex", fullBox("trex", 0, 0, u32(1, 1, 0, 0, 0)));
  return new Uint8Array([...box("ftyp", new TextEncoder().encode("iso5"), u32(512), new TextEncoder().encode("iso6mp41")), ...box("moov", fullBox("mvhd", 0, 0, zeros(96)), trak, mvex)]);
}

/**
 * A media segment of `samples` samples of `sampleDuration` each (per-sample durations in
 * trun, as ffmpeg writes them), starting at decode time `decodeTime`, padded with
 * `payloadBytes` of media data.
 */
export function mediaSegment(options: { sequence: number; decodeTime: number; samples: number; sampleDuration: number; payloadBytes?: number }): Uint8Array {
  const tfhd = fullBox("tfhd", 0, 0x020000, u32(1));
  const tfdt = fullBox("tfdt", 1, 0, u32(Math.floor(options.decodeTime / 2 ** 32), options.decodeTime >>> 0));
  const perSample = Array.from({ length: options.samples }, () => [options.sampleDuration, 100]).flat();
  const trun = fullBox("trun", 0, 0x000301, u32(options.samples, 0), u32(...perSample));
  const moof = box("moof", fullBox("mfhd", 0, 0, u32(options.sequence)), box("traf", tfhd, tfdt, trun));
  const payload = new Uint8Array(options.payloadBytes ?? 1000);
  for (let i = 0; i < payload.length; i++) payload[i] = (options.sequence * 31 + i) & 0xff;
  return new Uint8Array([...box("styp", new TextEncoder().encode("msdh"), u32(0), new TextEncoder().encode("msdhmsix")), ...moof, ...box("mdat", payload)]);
}

/** ffmpeg's playlist of one rendition after segment `last` (its newest `listSize`). */
export function ingestPlaylist(entries: { n: number; durationSec: number; pdtMs?: number }[], ended = false): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2", `#EXT-X-MEDIA-SEQUENCE:${entries[0]?.n ?? 0}`, "#EXT-X-INDEPENDENT-SEGMENTS", '#EXT-X-MAP:URI="init_0.mp4"'];
  for (const e of entries) {
    lines.push(`#EXTINF:${e.durationSec.toFixed(6)},`);
    if (e.pdtMs !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.pdtMs).toISOString().replace("Z", "+0000")}`);
    lines.push(`${e.n}.m4s`);
  }
  if (ended) lines.push("#EXT-X-ENDLIST");
  return `${lines.join("\n")}\n`;
}
