// What the ingest reads out of the fragmented MP4 a broadcaster sends: from an init segment,
// the track's kind, codec string, picture size or channels, and media timescale; from a
// media segment, its decode time and sample count. A strict box walker: every box must lie
// inside its parent, sizes are checked before they are used, and anything else is refused.
export class Fmp4Error extends Error {}

type Box = { type: string; start: number; end: number };

function fail(message: string): never {
  throw new Fmp4Error(message);
}

function boxes(view: DataView, start: number, end: number): Box[] {
  const found: Box[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 8) fail("truncated box header");
    let size = view.getUint32(at);
    const type = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
    let header = 8;
    if (size === 1) {
      if (end - at < 16) fail("truncated large box header");
      const large = view.getBigUint64(at + 8);
      if (large > BigInt(end - at)) fail(`box ${type} overruns its parent`);
      size = Number(large);
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) fail(`box ${type} has a bad size`);
    found.push({ type, start: at + header, end: at + size });
    at += size;
  }
  return found;
}

function child(view: DataView, parent: Box, type: string, offset = 0): Box {
  const box = boxes(view, parent.start + offset, parent.end).find((b) => b.type === type);
  return box ?? fail(`no ${type} in ${parent.type}`);
}

function need(box: Box, bytes: number): void {
  if (box.end - box.start < bytes) fail(`${box.type} is too short`);
}

/** `sampleDuration`: the movie's default sample duration (mvex/trex), 0 when it names none. */
export type InitTrack =
  | { kind: "video"; codecs: string; width: number; height: number; timescale: number; sampleDuration: number }
  | { kind: "audio"; codecs: string; channels: number; sampleRate: number; timescale: number; sampleDuration: number };

/** The one track of a CMAF init segment (ffmpeg's HLS fMP4 init: ftyp, moov with one trak). */
export function parseInit(bytes: Uint8Array): InitTrack {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const top = boxes(view, 0, bytes.byteLength);
  const moov = top.find((b) => b.type === "moov") ?? fail("no moov: not an init segment");
  const traks = boxes(view, moov.start, moov.end).filter((b) => b.type === "trak");
  if (traks.length !== 1) fail(`an init segment must carry one track, not ${traks.length}`);
  const mdia = child(view, traks[0]!, "mdia");
  const mdhd = child(view, mdia, "mdhd");
  need(mdhd, 4);
  const version = view.getUint8(mdhd.start);
  const timescaleAt = mdhd.start + (version === 1 ? 20 : 12);
  if (timescaleAt + 4 > mdhd.end) fail("mdhd is too short");
  const timescale = view.getUint32(timescaleAt);
  if (timescale === 0) fail("a zero timescale");
  const trex = boxes(view, moov.start, moov.end)
    .filter((b) => b.type === "mvex")
    .flatMap((mvex) => boxes(view, mvex.start, mvex.end))
    .find((b) => b.type === "trex");
  let sampleDuration = 0;
  if (trex) {
    need(trex, 16);
    sampleDuration = view.getUint32(trex.start + 12);
  }
  const stbl = child(view, child(view, mdia, "minf"), "stbl");
  const stsd = child(view, stbl, "stsd");
  need(stsd, 8);
  const [entry] = boxes(view, stsd.start + 8, stsd.end);
  if (!entry) fail("stsd has no sample entry");
  if (entry.type === "avc1" || entry.type === "avc3") {
    need(entry, 78);
    const width = view.getUint16(entry.start + 24);
    const height = view.getUint16(entry.start + 26);
    const avcC = child(view, entry, "avcC", 78);
    need(avcC, 4);
    const hex = (at: number) => view.getUint8(at).toString(16).padStart(2, "0");
    if (width === 0 || height === 0) fail("a video track without a picture size");
    return { kind: "video", codecs: `${entry.type}.${hex(avcC.start + 1)}${hex(avcC.start + 2)}${hex(avcC.start + 3)}`, width, height, timescale, sampleDuration };
  }
  if (entry.type === "mp4a") {
    need(entry, 28);
    const channels = view.getUint16(entry.start + 16);
    const sampleRate = view.getUint32(entry.start + 24) >>> 16;
    if (channels === 0 || sampleRate === 0) fail("an audio track without channels or a sample rate");
    const esds = child(view, entry, "esds", 28);
    return { kind: "audio", codecs: aacCodecs(view, esds), channels, sampleRate, timescale, sampleDuration };
  }
  return fail(`codec ${entry.type} is not accepted for live (H.264 video, AAC audio)`);
}

/** `mp4a.40.{audio object type}` from an esds box: only MPEG-4 audio (0x40) is accepted. */
function aacCodecs(view: DataView, esds: Box): string {
  let at = esds.start + 4;
  const descriptor = (): { tag: number; start: number; end: number } => {
    if (at + 2 > esds.end) fail("truncated esds");
    const tag = view.getUint8(at++);
    let size = 0;
    for (let i = 0; i < 4; i++) {
      if (at >= esds.end) fail("truncated esds");
      const b = view.getUint8(at++);
      size = (size << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
      if (i === 3) fail("esds descriptor size is too long");
    }
    if (at + size > esds.end) fail("esds descriptor overruns");
    return { tag, start: at, end: at + size };
  };
  const es = descriptor();
  if (es.tag !== 0x03 || es.end - es.start < 3) fail("esds without an ES descriptor");
  const flags = view.getUint8(es.start + 2);
  at = es.start + 3 + (flags & 0x80 ? 2 : 0);
  if (flags & 0x40) {
    if (at >= es.end) fail("truncated ES descriptor");
    at += 1 + view.getUint8(at);
  }
  if (flags & 0x20) at += 2;
  const config = descriptor();
  if (config.tag !== 0x04 || config.end - config.start < 13) fail("esds without a decoder config");
  if (view.getUint8(config.start) !== 0x40) fail("audio that is not MPEG-4 audio (AAC)");
  at = config.start + 13;
  const specific = descriptor();
  if (specific.tag !== 0x05 || specific.end - specific.start < 1) fail("AAC without its AudioSpecificConfig");
  const objectType = view.getUint8(specific.start) >> 3;
  if (objectType === 0 || objectType === 31) fail("an AAC object type this ingest does not read");
  return `mp4a.40.${objectType}`;
}

export type MediaSegment = {
  /** The first sample's decode time, in the track's timescale (tfdt). */
  decodeTime: number;
  /** Samples in the segment (every trun of every moof): a video track's frame rate over its duration. */
  samples: number;
  /** The sum of its samples' durations (trun, else tfhd's or the init's default), or null when nothing says. */
  duration: number | null;
};

/** A CMAF media segment: one or more moof+mdat pairs (styp and other top-level boxes allowed). */
export function parseSegment(bytes: Uint8Array, defaultSampleDuration = 0): MediaSegment {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const top = boxes(view, 0, bytes.byteLength);
  const moofs = top.filter((b) => b.type === "moof");
  if (moofs.length === 0 || !top.some((b) => b.type === "mdat")) fail("not a media segment (no moof and mdat)");
  let decodeTime: number | null = null;
  let samples = 0;
  let duration = 0;
  let durationKnown = true;
  for (const moof of moofs) {
    for (const traf of boxes(view, moof.start, moof.end).filter((b) => b.type === "traf")) {
      const inner = boxes(view, traf.start, traf.end);
      const tfdt = inner.find((b) => b.type === "tfdt");
      if (tfdt && decodeTime === null) {
        need(tfdt, 8);
        const version = view.getUint8(tfdt.start);
        if (version === 1) {
          need(tfdt, 12);
          const time = view.getBigUint64(tfdt.start + 4);
          if (time > BigInt(Number.MAX_SAFE_INTEGER)) fail("a decode time past 2^53");
          decodeTime = Number(time);
        } else {
          decodeTime = view.getUint32(tfdt.start + 4);
        }
      }
      let fallback = defaultSampleDuration;
      const tfhd = inner.find((b) => b.type === "tfhd");
      if (tfhd) {
        need(tfhd, 8);
        const flags = view.getUint32(tfhd.start) & 0xffffff;
        const at = tfhd.start + 8 + (flags & 0x1 ? 8 : 0) + (flags & 0x2 ? 4 : 0);
        if (flags & 0x8) {
          if (at + 4 > tfhd.end) fail("tfhd is too short");
          fallback = view.getUint32(at);
        }
      }
      for (const trun of inner.filter((b) => b.type === "trun")) {
        need(trun, 8);
        const flags = view.getUint32(trun.start) & 0xffffff;
        const count = view.getUint32(trun.start + 4);
        samples += count;
        const perSample = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
        let at = trun.start + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
        if (at + count * perSample > trun.end) fail("trun lists more samples than it holds");
        if (flags & 0x100) {
          for (let i = 0; i < count; i++, at += perSample) duration += view.getUint32(at);
        } else if (fallback > 0) {
          duration += fallback * count;
        } else {
          durationKnown = false;
        }
      }
    }
  }
  if (decodeTime === null) fail("a media segment without tfdt");
  if (samples === 0) fail("a media segment without samples");
  return { decodeTime, samples, duration: durationKnown && duration > 0 ? duration : null };
}
