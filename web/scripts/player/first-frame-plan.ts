// Whether the watch page can put the first frame up before hls.js (./first-frame.ts), and
// from which files: read from the Play answer's inline playlists alone, no DOM needed.
import type { StartedPlayback } from "../../../lib/playback-session.ts";
import { startSegments } from "./prefetch.ts";

export type TrackPlan = { codec: string; init: string; segment: string };

/** The files and codecs of the first frame, or null where hls.js must start it. */
export type FirstFramePlan = { video: TrackPlan; audio: TrackPlan | null };

const VIDEO_CODEC = /^(?:avc[13]|hvc1|hev1|av01|vp09|dvh[1e])\./;
const AUDIO_CODEC = /^(?:mp4a\.|ac-3$|ec-3$|opus$|flac$)/;

/** The attribute `name` of an `#EXT-X-…:` line, quoted or not. */
function attribute(line: string, name: string): string | undefined {
  const at = line.indexOf(`${name}=`);
  if (at < 0 || (at > 0 && line[at - 1] !== ":" && line[at - 1] !== ",")) return undefined;
  const rest = line.slice(at + name.length + 1);
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    return end < 0 ? undefined : rest.slice(1, end);
  }
  const end = rest.indexOf(",");
  return end < 0 ? rest : rest.slice(0, end);
}

/** The variant whose media playlist is `playlistUrl`: its CODECS, split into video and audio, and whether it has an audio group. */
function variantCodecs(masterUrl: string, master: string, playlistUrl: string): { video: string; audio: string | null; audioGroup: boolean } | null {
  const lines = master.split("\n").map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith("#EXT-X-STREAM-INF:")) continue;
    const uri = lines.slice(i + 1).find((l) => l !== "" && !l.startsWith("#"));
    if (!uri || new URL(uri, masterUrl).toString() !== playlistUrl) continue;
    const codecs = (attribute(line, "CODECS") ?? "").split(",").map((c) => c.trim());
    const video = codecs.filter((c) => VIDEO_CODEC.test(c));
    const audio = codecs.filter((c) => AUDIO_CODEC.test(c));
    if (video.length !== 1 || audio.length > 1 || video.length + audio.length !== codecs.length) return null;
    return { video: video[0]!, audio: audio[0] ?? null, audioGroup: attribute(line, "AUDIO") !== undefined };
  }
  return null;
}

function trackPlan(playlist: { url: string; text: string }, codec: string, positionSec: number): TrackPlan | null {
  // fMP4 only: the init segment (EXT-X-MAP) and the media segment at the position.
  if (!playlist.text.includes("#EXT-X-MAP:")) return null;
  const urls = startSegments(playlist.url, playlist.text, positionSec);
  return urls.length === 2 ? { codec, init: urls[0]!, segment: urls[1]! } : null;
}

/**
 * Whether the first frame can come before hls.js, and from which files: `isTypeSupported`
 * is the browser's MediaSource check (injectable for the tests).
 */
export function firstFramePlan(
  session: Pick<StartedPlayback, "live" | "media">,
  positionSec: number,
  isTypeSupported: (type: string) => boolean,
): FirstFramePlan | null {
  const { hlsMaster, hlsPlaylists, hlsStartVariant, hlsUrl } = session.media;
  if (session.live || hlsMaster === null || hlsStartVariant === null || hlsPlaylists.length === 0) return null;
  const codecs = variantCodecs(hlsUrl, hlsMaster, hlsPlaylists[0]!.url);
  if (!codecs) return null;
  // Separate audio (an AUDIO group, its playlist inline second), or video alone; never muxed.
  const separateAudio = codecs.audio !== null && codecs.audioGroup && hlsPlaylists.length === 2;
  if (!(separateAudio || (codecs.audio === null && hlsPlaylists.length === 1))) return null;
  const video = trackPlan(hlsPlaylists[0]!, codecs.video, positionSec);
  const audio = separateAudio ? trackPlan(hlsPlaylists[1]!, codecs.audio!, positionSec) : null;
  if (!video || (separateAudio && !audio)) return null;
  if (!isTypeSupported(`video/mp4; codecs="${video.codec}"`) || (audio && !isTypeSupported(`audio/mp4; codecs="${audio.codec}"`))) return null;
  return { video, audio };
}

