// Tests of the HLS and DASH generators against the real demo index and synthetic edge cases, read back with real parsers.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import demoIndex from "../../../demo/media/assets/demo-aurora/index.json";
import { type RenditionIndex, renditionIndexSchema, type SegmentList } from "../../../lib/media-index.ts";
import { dashManifest, frameRate, runs } from "../manifests/dash.ts";
import { mediaPlaylist, multivariantPlaylist, subtitlePlaylist } from "../manifests/hls.ts";
import { allowedVideo, isTrackAllowed } from "../manifests/ladder.ts";
import { parseHls } from "./helpers.ts";

const demo = renditionIndexSchema.parse(demoIndex);

// ---------------------------------------------------------------- synthetic indexes

function segmentList(seconds: number[], timescale = 90_000, startNumber = 0): SegmentList {
  return {
    timescale,
    startNumber,
    durations: seconds.map((s) => Math.round(s * timescale)),
    bytes: seconds.map(() => 10_000),
  };
}

function video(id: string, width: number, height: number, bandwidth: number, extra: object = {}) {
  return {
    id,
    codecs: `avc1.6400${height}`.slice(0, 11),
    bandwidth,
    averageBandwidth: Math.round(bandwidth * 0.8),
    segments: segmentList([6, 6, 6]),
    width,
    height,
    frameRate: 24,
    ...extra,
  };
}

function audio(id: string, lang: string, name: string, bandwidth: number, extra: object = {}) {
  return {
    id,
    codecs: "mp4a.40.2",
    bandwidth,
    averageBandwidth: bandwidth - 1000,
    segments: segmentList([6, 6, 6], 48_000, 1),
    lang,
    name,
    channels: 2,
    sampleRate: 48_000,
    default: false,
    ...extra,
  };
}

/** A valid index (checked by the real schema) with the 1080p/2160p rungs the demo lacks. */
function synthetic(overrides: Partial<Record<keyof RenditionIndex, unknown>> = {}): RenditionIndex {
  return renditionIndexSchema.parse({
    version: 1,
    assetId: "synthetic",
    durationSec: 18,
    segmentDurationSec: 6,
    video: [
      video("2160p", 3840, 2160, 16_000_000),
      video("360p", 640, 360, 800_000),
      video("1080p", 1920, 1080, 5_000_000),
    ],
    audio: [audio("audio-en", "en", "English", 128_000, { default: true })],
    subtitles: [{ lang: "en", name: "English", path: "subs/en.vtt", default: false }],
    thumbnails: null,
    poster: null,
    files: [{ path: "subs/en.vtt", bytes: 4500, sha256: "0".repeat(64) }],
    ...overrides,
  });
}

// ---------------------------------------------------------------- parsers

/** A tag's attributes read straight from the text, for what m3u8-parser drops (CHANNELS). */
function rawAttributes(line: string): Record<string, string> {
  const body = line.slice(line.indexOf(":") + 1);
  const pairs = body.match(/[A-Z0-9-]+=(?:"[^"]*"|[^,]*)/g) ?? [];
  return Object.fromEntries(pairs.map((pair) => {
    const at = pair.indexOf("=");
    return [pair.slice(0, at), pair.slice(at + 1).replace(/^"(.*)"$/, "$1")];
  }));
}

function linesStartingWith(text: string, prefix: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(prefix));
}

interface XmlNode {
  [key: string]: string | XmlNode | XmlNode[] | undefined;
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseAttributeValue: false,
  parseTagValue: false,
  // Without this, numeric character references (&#10;) come back undecoded.
  htmlEntities: true,
  isArray: (name) => ["Period", "AdaptationSet", "Representation", "S", "Role", "BaseURL", "Label"].includes(name),
});

function parseMpd(text: string): XmlNode {
  expect(XMLValidator.validate(text)).toBe(true);
  return xml.parse(text).MPD as XmlNode;
}

function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  return Array.isArray(value) ? value : [];
}

function child(node: XmlNode | undefined, name: string): XmlNode {
  const value = node?.[name];
  if (!value || typeof value === "string" || Array.isArray(value)) throw new Error(`no single <${name}>`);
  return value;
}

function attr(node: XmlNode, name: string): string | undefined {
  const value = node[`@${name}`];
  return typeof value === "string" ? value : undefined;
}

/** Text of an element that fast-xml-parser may give as a string or, with attributes, as {#text}. */
function text(node: XmlNode | string | undefined): string {
  if (typeof node === "string") return node;
  const value = node?.["#text"];
  return typeof value === "string" ? value : "";
}

function adaptationSets(mpd: XmlNode, contentType: string): XmlNode[] {
  return children(children(mpd, "Period")[0], "AdaptationSet").filter((set) => attr(set, "contentType") === contentType);
}

/** A SegmentTimeline expanded back into one duration per segment, checking `t` continuity. */
function expandTimeline(template: XmlNode): number[] {
  const entries = children(child(template, "SegmentTimeline"), "S");
  const durations: number[] = [];
  let time = 0;
  for (const entry of entries) {
    const t = attr(entry, "t");
    if (t !== undefined) expect(Number(t)).toBe(time);
    const d = Number(attr(entry, "d"));
    const repeat = Number(attr(entry, "r") ?? "0");
    for (let i = 0; i <= repeat; i++) durations.push(d);
    time += d * (repeat + 1);
  }
  return durations;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

const loudestDemoAudio = demo.audio.reduce((a, b) => (b.bandwidth > a.bandwidth ? b : a));

// ---------------------------------------------------------------- ladder

describe("the plan's ladder", () => {
  it.each([
    [239, []],
    [240, ["240p"]],
    [480, ["240p", "480p"]],
    [720, ["240p", "480p", "720p"]],
    [2160, ["240p", "480p", "720p"]],
  ])("keeps the demo's renditions at or below %i lines", (maxHeight, ids) => {
    expect(allowedVideo(demo, maxHeight).map((v) => v.id)).toEqual(ids);
  });

  it("orders renditions lowest first even when the index does not, without reordering the index", () => {
    const index = synthetic();
    expect(allowedVideo(index, 2160).map((v) => v.height)).toEqual([360, 1080, 2160]);
    expect(index.video.map((v) => v.id)).toEqual(["2160p", "360p", "1080p"]);
  });

  it("always allows audio, allows video only up to the cap, and refuses unknown tracks", () => {
    expect(isTrackAllowed(demo, "audio-en", 0)).toBe(true);
    expect(isTrackAllowed(demo, "480p", 480)).toBe(true);
    expect(isTrackAllowed(demo, "720p", 480)).toBe(false);
    expect(isTrackAllowed(demo, "720p", 720)).toBe(true);
    expect(isTrackAllowed(demo, "1080p", 2160)).toBe(false);
    expect(isTrackAllowed(demo, "subs", 2160)).toBe(false);
    expect(isTrackAllowed(demo, "", 2160)).toBe(false);
  });
});

// ---------------------------------------------------------------- HLS multivariant

describe("the HLS multivariant playlist", () => {
  it("opens with the version and independent-segments tags", () => {
    const text = multivariantPlaylist(demo, 2160);
    expect(text.split("\n").slice(0, 3)).toEqual(["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]);
    const manifest = parseHls(text);
    expect(manifest.version).toBe(7);
    expect(manifest.independentSegments).toBe(true);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("gives every demo variant the attributes the index implies", () => {
    const manifest = parseHls(multivariantPlaylist(demo, 2160));
    const variants = manifest.playlists ?? [];
    expect(variants).toHaveLength(demo.video.length);
    variants.forEach((variant, i) => {
      const rendition = demo.video[i]!;
      expect(variant.uri).toBe(`${rendition.id}/playlist.m3u8`);
      expect(variant.attributes).toEqual({
        BANDWIDTH: rendition.bandwidth + loudestDemoAudio.bandwidth,
        "AVERAGE-BANDWIDTH": String(rendition.averageBandwidth + loudestDemoAudio.averageBandwidth),
        CODECS: `${rendition.codecs},${loudestDemoAudio.codecs}`,
        RESOLUTION: { width: rendition.width, height: rendition.height },
        "FRAME-RATE": rendition.frameRate,
        AUDIO: "audio",
        SUBTITLES: "subs",
      });
    });
  });

  it("writes FRAME-RATE with three decimals and the demo's exact bandwidth sums", () => {
    const infs = linesStartingWith(multivariantPlaylist(demo, 2160), "#EXT-X-STREAM-INF:");
    expect(infs[0]).toBe(
      '#EXT-X-STREAM-INF:BANDWIDTH=176900,AVERAGE-BANDWIDTH=165603,CODECS="avc1.640015,mp4a.40.2",' +
        'RESOLUTION=426x240,FRAME-RATE=24.000,AUDIO="audio",SUBTITLES="subs"',
    );
  });

  it("declares the demo's audio track in the audio group", () => {
    const text = multivariantPlaylist(demo, 2160);
    const manifest = parseHls(text);
    expect(manifest.mediaGroups?.AUDIO).toEqual({
      audio: { English: { default: true, autoselect: true, language: "en", uri: "audio-en/playlist.m3u8" } },
    });
    const [line, ...others] = linesStartingWith(text, "#EXT-X-MEDIA:TYPE=AUDIO");
    expect(others).toEqual([]);
    // m3u8-parser drops CHANNELS, so it is read from the text.
    expect(rawAttributes(line!)).toEqual({
      TYPE: "AUDIO",
      "GROUP-ID": "audio",
      NAME: "English",
      LANGUAGE: "en",
      DEFAULT: "YES",
      AUTOSELECT: "YES",
      CHANNELS: "2",
      URI: "audio-en/playlist.m3u8",
    });
  });

  it("declares the demo's subtitles in the subs group", () => {
    const text = multivariantPlaylist(demo, 2160);
    expect(parseHls(text).mediaGroups?.SUBTITLES).toEqual({
      subs: { English: { default: false, autoselect: true, forced: false, language: "en", uri: "subs/en.m3u8" } },
    });
    const [line] = linesStartingWith(text, "#EXT-X-MEDIA:TYPE=SUBTITLES");
    expect(rawAttributes(line!)).toMatchObject({ "GROUP-ID": "subs", FORCED: "NO", AUTOSELECT: "YES" });
  });

  it.each([
    [239, []],
    [480, [240, 480]],
    [720, [240, 480, 720]],
    [2160, [240, 480, 720]],
  ])("with a cap of %i lists variants of heights %j", (maxHeight, heights) => {
    const manifest = parseHls(multivariantPlaylist(demo, maxHeight));
    expect((manifest.playlists ?? []).map((v) => v.attributes.RESOLUTION?.height)).toEqual(heights);
  });

  it("lists nothing playable, not even audio, when the cap allows no rendition", () => {
    const text = multivariantPlaylist(demo, 239);
    expect(text).toBe("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
  });

  it("uses only relative URIs so the token in the path is inherited", () => {
    const text = multivariantPlaylist(demo, 2160);
    const uris = [...text.matchAll(/URI="([^"]*)"/g)].map((m) => m[1]!);
    const variantUris = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    for (const uri of [...uris, ...variantUris]) {
      expect(uri).not.toMatch(/^\/|:\/\/|^\.\./);
    }
    expect(variantUris).toEqual(["240p/playlist.m3u8", "480p/playlist.m3u8", "720p/playlist.m3u8"]);
  });

  it("lists 1080p and 2160p only for caps that reach them", () => {
    const index = synthetic();
    const heights = (cap: number) => (parseHls(multivariantPlaylist(index, cap)).playlists ?? []).map((v) => v.attributes.RESOLUTION?.height);
    expect(heights(720)).toEqual([360]);
    expect(heights(1080)).toEqual([360, 1080]);
    expect(heights(2160)).toEqual([360, 1080, 2160]);
  });

  it("omits every audio part when the asset has no audio", () => {
    const index = synthetic({ audio: [] });
    const text = multivariantPlaylist(index, 2160);
    expect(text).not.toContain("TYPE=AUDIO");
    const variants = parseHls(text).playlists ?? [];
    expect(variants).toHaveLength(3);
    for (const variant of variants) {
      const rendition = index.video.find((v) => `${v.id}/playlist.m3u8` === variant.uri)!;
      expect(variant.attributes.BANDWIDTH).toBe(rendition.bandwidth);
      expect(variant.attributes["AVERAGE-BANDWIDTH"]).toBe(String(rendition.averageBandwidth));
      expect(variant.attributes.CODECS).toBe(rendition.codecs);
      expect(variant.attributes.AUDIO).toBeUndefined();
      expect(variant.attributes.SUBTITLES).toBe("subs");
    }
  });

  it("omits SUBTITLES when the asset has none", () => {
    const text = multivariantPlaylist(synthetic({ subtitles: [] }), 2160);
    expect(text).not.toContain("SUBTITLES");
    for (const variant of parseHls(text).playlists ?? []) expect(variant.attributes.AUDIO).toBe("audio");
  });

  it("sizes variants for the most demanding audio track and names every audio codec", () => {
    const index = synthetic({
      audio: [
        audio("audio-en", "en", "English", 128_000, { default: true }),
        audio("audio-en-51", "en", "English", 384_000, { codecs: "ec-3", channels: 6 }),
        audio("audio-fr", "fr", "Français", 96_000, { default: true }),
      ],
    });
    const text = multivariantPlaylist(index, 2160);
    const manifest = parseHls(text);
    const lowest = manifest.playlists?.[0];
    expect(lowest?.attributes.BANDWIDTH).toBe(800_000 + 384_000);
    expect(lowest?.attributes["AVERAGE-BANDWIDTH"]).toBe(String(640_000 + 383_000));
    expect(lowest?.attributes.CODECS).toBe("avc1.640036,mp4a.40.2,ec-3");
    // Duplicate NAMEs would collapse in players; only the first flagged default stays DEFAULT=YES.
    const group = manifest.mediaGroups?.AUDIO.audio ?? {};
    expect(Object.keys(group)).toEqual(["English", "English (2)", "Français"]);
    expect(Object.values(group).map((r) => r.default)).toEqual([true, false, false]);
    expect(rawAttributes(linesStartingWith(text, "#EXT-X-MEDIA:TYPE=AUDIO")[1]!).CHANNELS).toBe("6");
  });

  it("makes the first audio track the default when none is flagged", () => {
    const index = synthetic({ audio: [audio("audio-de", "de", "Deutsch", 64_000), audio("audio-en", "en", "English", 96_000)] });
    const group = parseHls(multivariantPlaylist(index, 2160)).mediaGroups?.AUDIO.audio ?? {};
    expect(Object.values(group).map((r) => r.default)).toEqual([true, false]);
  });

  it("cannot be broken by quotes or newlines in a track name", () => {
    const hostile = 'A "B" <C> & D';
    const index = synthetic({
      audio: [audio("audio-en", "en", `${hostile}\nEXT-X-ENDLIST`, 128_000, { default: true })],
      subtitles: [
        { lang: "en", name: hostile, path: "subs/en.vtt", default: false },
        { lang: "fr", name: 'Fr"\r\n#EXT-X-STREAM-INF:BANDWIDTH=1', path: "subs/fr.vtt", default: false },
      ],
    });
    const text = multivariantPlaylist(index, 2160);
    const manifest = parseHls(text);
    expect(manifest.playlists).toHaveLength(3);
    expect(Object.keys(manifest.mediaGroups?.AUDIO.audio ?? {})).toEqual(["A 'B' <C> & D EXT-X-ENDLIST"]);
    expect(Object.keys(manifest.mediaGroups?.SUBTITLES.subs ?? {})).toEqual(["A 'B' <C> & D", "Fr' #EXT-X-STREAM-INF:BANDWIDTH=1"]);
    expect(linesStartingWith(text, "#EXT-X-STREAM-INF")).toHaveLength(3);
    expect(text.split("\n")).toHaveLength(3 + 1 + 2 + 3 * 2 + 1);
  });
});

// ---------------------------------------------------------------- HLS media playlists

describe("an HLS media playlist", () => {
  const demoTracks = [...demo.video, ...demo.audio];

  it.each(demoTracks.map((track) => [track.id, track] as const))("for demo track %s lists every segment in order", (_id, track) => {
    const text = mediaPlaylist(demo, track.id)!;
    const manifest = parseHls(text);
    const { durations, timescale, startNumber } = track.segments;
    expect(manifest.version).toBe(7);
    expect(manifest.mediaSequence).toBe(0);
    expect(manifest.playlistType).toBe("VOD");
    expect(manifest.independentSegments).toBe(true);
    expect(manifest.endList).toBe(true);
    expect(manifest.segments.map((s) => s.uri)).toEqual(durations.map((_d, i) => `${startNumber + i}.m4s`));
    expect(manifest.segments.map((s) => s.map?.uri)).toEqual(durations.map(() => "init.m4s"));
    manifest.segments.forEach((segment, i) => expect(segment.duration).toBeCloseTo(durations[i]! / timescale, 6));
  });

  it.each(demoTracks.map((track) => [track.id, track] as const))("for demo track %s keeps the target-duration rule", (_id, track) => {
    const manifest = parseHls(mediaPlaylist(demo, track.id)!);
    const longest = Math.max(...track.segments.durations) / track.segments.timescale;
    expect(manifest.targetDuration).toBe(Math.ceil(longest));
    for (const segment of manifest.segments) expect(Math.round(segment.duration)).toBeLessThanOrEqual(manifest.targetDuration!);
  });

  it("sums the demo's video segments to the asset's duration and audio to its own track length", () => {
    for (const rendition of demo.video) {
      expect(sum(parseHls(mediaPlaylist(demo, rendition.id)!).segments.map((s) => s.duration))).toBeCloseTo(demo.durationSec, 5);
    }
    const track = demo.audio[0]!;
    const audioSum = sum(parseHls(mediaPlaylist(demo, track.id)!).segments.map((s) => s.duration));
    expect(audioSum).toBeCloseTo(sum(track.segments.durations) / track.segments.timescale, 5);
    // AAC frames (1024 samples) cannot land exactly on 12 s; within one frame is the honest bound.
    expect(Math.abs(audioSum - demo.durationSec)).toBeLessThan((2 * 1024) / 48_000);
  });

  it("writes EXTINF with six decimals and relative segment URIs", () => {
    const lines = mediaPlaylist(demo, "audio-en")!.split("\n");
    expect(lines.slice(0, 9)).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      "#EXT-X-TARGETDURATION:3",
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXT-X-PLAYLIST-TYPE:VOD",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      '#EXT-X-MAP:URI="init.m4s"',
      "#EXTINF:2.005333,",
      "1.m4s",
    ]);
    expect(lines.at(-2)).toBe("#EXT-X-ENDLIST");
  });

  it.each([
    [[6, 6, 6], 6],
    [[6, 6.0001, 5], 7],
    [[2.4, 2.6, 1], 3],
    [[0.5], 1],
    [[10.000011], 11],
  ])("with segments of %j seconds has a target duration of %i", (seconds, target) => {
    const index = synthetic({ video: [video("360p", 640, 360, 800_000, { segments: segmentList(seconds) })] });
    const manifest = parseHls(mediaPlaylist(index, "360p")!);
    expect(manifest.targetDuration).toBe(target);
    for (const segment of manifest.segments) expect(Math.round(segment.duration)).toBeLessThanOrEqual(target);
  });

  it("numbers segments from the track's startNumber", () => {
    const index = synthetic({ video: [video("360p", 640, 360, 800_000, { segments: segmentList([6, 6], 90_000, 7) })] });
    expect(parseHls(mediaPlaylist(index, "360p")!).segments.map((s) => s.uri)).toEqual(["7.m4s", "8.m4s"]);
  });

  it("is null for a track the index does not have", () => {
    expect(mediaPlaylist(demo, "1080p")).toBeNull();
    expect(mediaPlaylist(demo, "subs")).toBeNull();
  });
});

describe("an HLS subtitle playlist", () => {
  it("wraps the demo's VTT as one segment spanning the asset", () => {
    const text = subtitlePlaylist(demo, "en")!;
    const manifest = parseHls(text);
    expect(manifest.playlistType).toBe("VOD");
    expect(manifest.endList).toBe(true);
    expect(manifest.mediaSequence).toBe(0);
    expect(manifest.targetDuration).toBe(12);
    expect(manifest.segments).toHaveLength(1);
    expect(manifest.segments[0]).toMatchObject({ uri: "en.vtt", duration: 12 });
    expect(text).toContain("#EXTINF:12.000000,\n");
  });

  it("points at a VTT outside subs/ relative to the playlist's own folder", () => {
    const index = synthetic({
      durationSec: 17.5,
      subtitles: [{ lang: "fr", name: "Français", path: "captions/fr cc.vtt", default: true }],
    });
    const manifest = parseHls(subtitlePlaylist(index, "fr")!);
    expect(manifest.targetDuration).toBe(18);
    expect(manifest.segments.map((s) => s.uri)).toEqual(["../captions/fr%20cc.vtt"]);
  });

  it("is null for a language the index does not have", () => {
    expect(subtitlePlaylist(demo, "fr")).toBeNull();
  });
});

// ---------------------------------------------------------------- DASH

describe("the DASH manifest", () => {
  it("is a static live-profile MPD with the asset's duration and no MPD-level BaseURL", () => {
    const mpd = parseMpd(dashManifest(demo, 2160));
    expect(attr(mpd, "xmlns")).toBe("urn:mpeg:dash:schema:mpd:2011");
    expect(attr(mpd, "profiles")).toBe("urn:mpeg:dash:profile:isoff-live:2011");
    expect(attr(mpd, "type")).toBe("static");
    expect(attr(mpd, "mediaPresentationDuration")).toBe("PT12.000S");
    expect(attr(mpd, "minBufferTime")).toMatch(/^PT\d+\.\d{3}S$/);
    expect(mpd.BaseURL).toBeUndefined();
    const periods = children(mpd, "Period");
    expect(periods).toHaveLength(1);
    expect(periods[0]!.BaseURL).toBeUndefined();
  });

  it.each([
    [239, []],
    [480, ["240p", "480p"]],
    [720, ["240p", "480p", "720p"]],
    [2160, ["240p", "480p", "720p"]],
  ])("with a cap of %i has the representations %j", (maxHeight, ids) => {
    const videoSets = adaptationSets(parseMpd(dashManifest(demo, maxHeight)), "video");
    expect(videoSets.flatMap((set) => children(set, "Representation").map((r) => attr(r, "id")))).toEqual(ids);
  });

  it("has an empty Period, not an audio-only one, when the cap allows no rendition", () => {
    const period = children(parseMpd(dashManifest(demo, 239)), "Period")[0]!;
    expect(children(period, "AdaptationSet")).toEqual([]);
  });

  it("describes the allowed demo renditions in one video adaptation set", () => {
    const [set, ...others] = adaptationSets(parseMpd(dashManifest(demo, 480)), "video");
    expect(others).toEqual([]);
    expect(attr(set!, "mimeType")).toBe("video/mp4");
    expect(attr(set!, "segmentAlignment")).toBe("true");
    expect(attr(set!, "startWithSAP")).toBe("1");
    expect(attr(set!, "maxWidth")).toBe("854");
    expect(attr(set!, "maxHeight")).toBe("480");
    const representations = children(set, "Representation");
    representations.forEach((representation, i) => {
      const rendition = demo.video[i]!;
      expect({
        id: attr(representation, "id"),
        bandwidth: attr(representation, "bandwidth"),
        width: attr(representation, "width"),
        height: attr(representation, "height"),
        frameRate: attr(representation, "frameRate"),
        codecs: attr(representation, "codecs"),
      }).toEqual({
        id: rendition.id,
        bandwidth: String(rendition.bandwidth),
        width: String(rendition.width),
        height: String(rendition.height),
        frameRate: "24",
        codecs: rendition.codecs,
      });
    });
  });

  it("gives every track a segment template whose timeline reproduces the index durations exactly", () => {
    const mpd = parseMpd(dashManifest(demo, 2160));
    const tracks = [...demo.video, ...demo.audio];
    const representations = children(children(mpd, "Period")[0], "AdaptationSet").flatMap((set) => children(set, "Representation"));
    for (const track of tracks) {
      const representation = representations.find((r) => attr(r, "id") === track.id)!;
      const template = child(representation, "SegmentTemplate");
      expect(attr(template, "timescale")).toBe(String(track.segments.timescale));
      expect(attr(template, "startNumber")).toBe(String(track.segments.startNumber));
      expect(attr(template, "initialization")).toBe("$RepresentationID$/init.m4s");
      expect(attr(template, "media")).toBe("$RepresentationID$/$Number$.m4s");
      expect(expandTimeline(template)).toEqual(track.segments.durations);
    }
  });

  it("run-length encodes equal consecutive durations", () => {
    expect(runs([2, 2, 2, 1, 2, 2])).toEqual([
      { duration: 2, repeat: 2 },
      { duration: 1, repeat: 0 },
      { duration: 2, repeat: 1 },
    ]);
    const seconds = [2, 2, 2, 1, 2, 2];
    const index = synthetic({ video: [video("360p", 640, 360, 800_000, { segments: segmentList(seconds) })] });
    const mpd = dashManifest(index, 2160);
    expect(mpd).toContain('<S t="0" d="180000" r="2"/>\n');
    expect(mpd).toContain('<S d="90000"/>\n');
    expect(mpd).toContain('<S d="180000" r="1"/>\n');
    const representation = children(adaptationSets(parseMpd(mpd), "video")[0], "Representation")[0]!;
    expect(expandTimeline(child(representation, "SegmentTemplate"))).toEqual(index.video[0]!.segments.durations);
  });

  it("describes the demo's audio track with its language, channels and main role", () => {
    const [set, ...others] = adaptationSets(parseMpd(dashManifest(demo, 2160)), "audio");
    expect(others).toEqual([]);
    const track = demo.audio[0]!;
    expect(attr(set!, "lang")).toBe("en");
    expect(attr(set!, "mimeType")).toBe("audio/mp4");
    expect(text(children(set, "Label")[0])).toBe("English");
    expect(children(set, "Role").map((role) => [attr(role, "schemeIdUri"), attr(role, "value")])).toEqual([
      ["urn:mpeg:dash:role:2011", "main"],
    ]);
    const [representation] = children(set, "Representation");
    expect(attr(representation!, "id")).toBe(track.id);
    expect(attr(representation!, "bandwidth")).toBe(String(track.bandwidth));
    expect(attr(representation!, "codecs")).toBe(track.codecs);
    expect(attr(representation!, "audioSamplingRate")).toBe("48000");
    const channels = child(representation, "AudioChannelConfiguration");
    expect(attr(channels, "schemeIdUri")).toBe("urn:mpeg:dash:23003:3:audio_channel_configuration:2011");
    expect(attr(channels, "value")).toBe("2");
  });

  it("marks non-default audio tracks as alternate", () => {
    const index = synthetic({
      audio: [audio("audio-en", "en", "English", 128_000, { default: true }), audio("audio-fr", "fr", "Français", 96_000)],
    });
    const roles = adaptationSets(parseMpd(dashManifest(index, 2160)), "audio").map((set) => attr(children(set, "Role")[0]!, "value"));
    expect(roles).toEqual(["main", "alternate"]);
  });

  it("points the demo's subtitle at its VTT with a relative BaseURL", () => {
    const [set, ...others] = adaptationSets(parseMpd(dashManifest(demo, 2160)), "text");
    expect(others).toEqual([]);
    expect(attr(set!, "mimeType")).toBe("text/vtt");
    expect(attr(set!, "lang")).toBe("en");
    const [representation] = children(set, "Representation");
    expect(children(representation, "BaseURL").map(text)).toEqual(["subs/en.vtt"]);
    expect(Number(attr(representation!, "bandwidth"))).toBeGreaterThan(0);
  });

  it("gives adaptation sets distinct ids", () => {
    const sets = children(children(parseMpd(dashManifest(demo, 2160)), "Period")[0], "AdaptationSet");
    expect(sets.map((set) => attr(set, "id"))).toEqual(["0", "1", "2"]);
  });

  it("XML-escapes hostile names and languages", () => {
    const hostile = 'A "B" <C> & D';
    const index = synthetic({
      audio: [audio("audio-en", "en", `${hostile}'\tline\ntwo\u0001`, 128_000, { default: true })],
      subtitles: [{ lang: 'x"><y', name: hostile, path: "subs/a&b.vtt", default: false }],
    });
    const mpdText = dashManifest(index, 2160);
    expect(mpdText).toContain("<Label>A &quot;B&quot; &lt;C&gt; &amp; D</Label>");
    const mpd = parseMpd(mpdText);
    expect(text(children(adaptationSets(mpd, "audio")[0], "Label")[0])).toBe(`${hostile}'\tline\ntwo`);
    const [subs] = adaptationSets(mpd, "text");
    expect(text(children(subs, "Label")[0])).toBe(hostile);
    expect(attr(subs!, "lang")).toBe('x"><y');
    expect(children(children(subs, "Representation")[0], "BaseURL").map(text)).toEqual(["subs/a%26b.vtt"]);
  });

  it.each([
    [24, "24"],
    [25, "25"],
    [23.976, "24000/1001"],
    [29.97, "30000/1001"],
    [59.94, "60000/1001"],
    [12.5, "25/2"],
    [14.985, "15000/1001"],
  ])("writes a frame rate of %f as %s", (fps, expected) => {
    expect(frameRate(fps)).toBe(expected);
  });

  it("lists 2160p with its own size and a decimal-free frame rate", () => {
    const index = synthetic({
      video: [video("360p", 640, 360, 800_000), video("2160p", 3840, 2160, 16_000_000, { frameRate: 29.97 })],
    });
    const [set] = adaptationSets(parseMpd(dashManifest(index, 2160)), "video");
    expect(attr(set!, "maxWidth")).toBe("3840");
    expect(attr(set!, "maxHeight")).toBe("2160");
    expect(children(set, "Representation").map((r) => attr(r, "frameRate"))).toEqual(["24", "30000/1001"]);
    expect(linesStartingWith(multivariantPlaylist(index, 2160), "#EXT-X-STREAM-INF")[1]).toContain("FRAME-RATE=29.970");
  });
});

// ---------------------------------------------------------------- determinism

describe("the generators", () => {
  it("return the same text for the same index, and for an equal copy of it", () => {
    const copy = renditionIndexSchema.parse(structuredClone(demoIndex));
    const generate = (index: RenditionIndex) => [
      multivariantPlaylist(index, 2160),
      multivariantPlaylist(index, 480),
      ...[...index.video, ...index.audio].map((track) => mediaPlaylist(index, track.id)),
      subtitlePlaylist(index, "en"),
      dashManifest(index, 2160),
      dashManifest(index, 480),
    ];
    const first = generate(demo);
    expect(generate(demo)).toEqual(first);
    expect(generate(copy)).toEqual(first);
  });
});
