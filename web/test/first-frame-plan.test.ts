// Which first frames the watch page puts up before hls.js (web/scripts/player/first-frame.ts),
// on the playlists the media Worker writes; the MediaSource side is e2e/first-frame.test.ts,
// in Chromium.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RenditionIndex } from "../../lib/media-index.ts";
import { mediaPlaylist, multivariantPlaylist } from "../../workers/media/manifests/hls.ts";
import { projectRoot } from "../../tools/project.ts";
import { firstFramePlan } from "../scripts/player/first-frame-plan.ts";

const index = JSON.parse(readFileSync(path.join(projectRoot, "demo/media/assets/demo-aurora/index.json"), "utf8")) as RenditionIndex;
const base = "https://media.example/p/TOKEN/demo-aurora/";
const hlsUrl = `${base}master.m3u8`;
const everything = () => true;

const START = index.video[1]!;
const AUDIO = index.audio[0]!;

/**
 * A Play answer's media fields, as workers/api/playback/playback-urls.ts builds them: the
 * master, and the start variant's video and audio playlists at their absolute URLs.
 */
function media(master: string, folder = base) {
  const playlists = [START.id, AUDIO.id].map((id) => ({ url: `${folder}${id}/playlist.m3u8`, text: mediaPlaylist(index, id)! }));
  return { hlsUrl, dashUrl: "", tokenExpiresAt: "", maxHeight: 1080, hlsMaster: master, hlsPlaylists: playlists, hlsStartVariant: 1, hlsInitSegments: [], hlsSteering: null };
}

describe("firstFramePlan", () => {
  const master = multivariantPlaylist(index, 1080);

  it("takes the start variant's codecs and its video and audio init and first segment", () => {
    const plan = firstFramePlan({ live: false, media: media(master) }, 0, everything);
    expect(plan).toEqual({
      video: { codec: START.codecs, init: `${base}${START.id}/init.m4s`, segment: `${base}${START.id}/1.m4s` },
      audio: { codec: AUDIO.codecs, init: `${base}${AUDIO.id}/init.m4s`, segment: `${base}${AUDIO.id}/1.m4s` },
    });
  });

  it("from a resume point: the segment holding it", () => {
    // 2 s segments: 5 s is in the third.
    const plan = firstFramePlan({ live: false, media: media(master) }, 5, everything)!;
    expect(plan.video.segment).toMatch(/\/3\.m4s$/);
    expect(plan.audio!.segment).toMatch(/\/3\.m4s$/);
  });

  it("with content steering: the start variant among the pathways' copies", () => {
    const steered = multivariantPlaylist(index, 1080, { ids: ["p", "p2"], initial: "p2", current: "p", base: (id) => `/${id}/TOKEN/demo-aurora/`, serverUri: "/steering.hls.json" });
    const m = media(steered, "https://media.example/p2/TOKEN/demo-aurora/");
    const plan = firstFramePlan({ live: false, media: m }, 0, everything)!;
    expect(plan.video.init).toBe(new URL("init.m4s", m.hlsPlaylists[0]!.url).toString());
    expect(plan.audio!.init).toBe(new URL("init.m4s", m.hlsPlaylists[1]!.url).toString());
  });

  it("leaves to hls.js what it must start: live, no inline playlists, codecs the browser refuses, muxed or unknown codecs, segments without an init", () => {
    const m = media(master);
    expect(firstFramePlan({ live: true, media: m }, 0, everything)).toBeNull();
    expect(firstFramePlan({ live: false, media: { ...m, hlsMaster: null } }, 0, everything)).toBeNull();
    expect(firstFramePlan({ live: false, media: { ...m, hlsStartVariant: null } }, 0, everything)).toBeNull();
    expect(firstFramePlan({ live: false, media: { ...m, hlsPlaylists: [] } }, 0, everything)).toBeNull();
    expect(firstFramePlan({ live: false, media: m }, 0, (type) => type.startsWith("video/"))).toBeNull();
    // Audio in the variant's CODECS but no AUDIO group: muxed, hls.js's 'audiovideo' buffer.
    expect(firstFramePlan({ live: false, media: { ...m, hlsMaster: master.replace(/,AUDIO="[^"]*"/g, ""), hlsPlaylists: m.hlsPlaylists.slice(0, 1) } }, 0, everything)).toBeNull();
    expect(firstFramePlan({ live: false, media: { ...m, hlsMaster: master.replace(/CODECS="/g, 'CODECS="xyz1.2,') } }, 0, everything)).toBeNull();
    const ts = m.hlsPlaylists.map((p) => ({ ...p, text: p.text.replace(/#EXT-X-MAP:[^\n]*\n/, "") }));
    expect(firstFramePlan({ live: false, media: { ...m, hlsPlaylists: ts } }, 0, everything)).toBeNull();
  });
});
