// Checks a packaged asset holds what players rely on and the dash muxer does not promise, cheaply enough for a film.
import type { AudioTrack, VideoRendition } from "../../lib/media-index.ts";
import { ffprobe } from "./ffmpeg.ts";
import type { FrameRate, KeyframePlan } from "./timing.ts";
import { AAC_FRAME_SAMPLES } from "./timing.ts";
import { segmentPath, seconds } from "./tracks.ts";

/** Frames of video a rendition's segment list adds up to. */
export function videoFrames(rendition: VideoRendition, fps: FrameRate): number {
  const { durations, timescale } = rendition.segments;
  return Math.round((durations.reduce((sum, d) => sum + d, 0) * fps.value) / timescale);
}

/**
 * Every rendition is cut at the planned keyframes (so players can switch at any segment),
 * and audio is cut with the video, never more than one AAC frame later and with no
 * trailing sliver (on which hls.js stalls before `ended`).
 */
export function checkSegmentation(video: VideoRendition[], audio: AudioTrack[], plan: KeyframePlan, fps: FrameRate): void {
  for (const rendition of video) {
    const starts = [0, ...cumulative(seconds(rendition.segments)).slice(0, -1)].map((sec) => Math.round(sec * fps.value));
    if (starts.join() !== plan.segmentStarts.join()) {
      throw new Error(`${rendition.id}: segments start at frames ${starts.join(", ")}, keyframes were planned at ${plan.segmentStarts.join(", ")}`);
    }
  }
  const videoEnds = cumulative(seconds(video[0]!.segments));
  for (const track of audio) {
    const frameSec = AAC_FRAME_SAMPLES / track.sampleRate;
    const ends = cumulative(seconds(track.segments));
    const drift = ends.map((end, i) => end - (videoEnds[i] ?? Infinity));
    // Each audio cut is the first AAC frame boundary at or after the video cut; the end is the last whole frame before it.
    const aligned = drift.slice(0, -1).every((d) => d > -1e-6 && d < frameSec + 1e-6);
    const last = drift.at(-1) ?? -Infinity;
    if (ends.length !== videoEnds.length || !aligned || last > 1e-6 || last < -frameSec - 1e-6) {
      throw new Error(
        `${track.id}: audio segments end at ${ends.map((s) => s.toFixed(3)).join(", ")} s, ` +
          `video segments at ${videoEnds.map((s) => s.toFixed(3)).join(", ")} s`,
      );
    }
  }
}

function cumulative(values: number[]): number[] {
  let sum = 0;
  return values.map((v) => (sum += v));
}

type SegmentProbe = { width?: number; height?: number; frames: number; firstIsKey: boolean };

/**
 * Decodes the first and the last segment of each track after its init segment, the way a
 * player's source buffer sees them: the right picture size, as many frames as the segment
 * list says, and a keyframe first. Two segments a track keeps this cheap for any length.
 */
export async function checkDecodes(tracks: { video: VideoRendition[]; audio: AudioTrack[] }, assetDir: string, fps: FrameRate): Promise<void> {
  for (const rendition of tracks.video) {
    for (const i of firstAndLast(rendition.segments.durations.length)) {
      const probe = await probeSegment(assetDir, rendition.id, rendition.segments.startNumber + i);
      const expected = Math.round((rendition.segments.durations[i]! * fps.value) / rendition.segments.timescale);
      if (probe.width !== rendition.width || probe.height !== rendition.height || probe.frames !== expected || !probe.firstIsKey) {
        throw new Error(
          `${rendition.id} segment ${i + 1}: decoded ${probe.frames} frames of ${probe.width}x${probe.height} ` +
            `(expected ${expected} of ${rendition.width}x${rendition.height})${probe.firstIsKey ? "" : ", not opening on a keyframe"}`,
        );
      }
    }
  }
  for (const track of tracks.audio) {
    for (const i of firstAndLast(track.segments.durations.length)) {
      const probe = await probeSegment(assetDir, track.id, track.segments.startNumber + i);
      const samples = (track.segments.durations[i]! * track.sampleRate) / track.segments.timescale;
      // The first segment also holds the encoder's priming frame, hidden by the edit list.
      const expected = samples / AAC_FRAME_SAMPLES + (i === 0 ? 1 : 0);
      if (probe.frames !== expected) {
        throw new Error(`${track.id} segment ${i + 1}: decoded ${probe.frames} AAC frames, expected ${expected}`);
      }
    }
  }
}

function firstAndLast(count: number): number[] {
  return count > 1 ? [0, count - 1] : [0];
}

async function probeSegment(assetDir: string, trackId: string, n: number): Promise<SegmentProbe> {
  const dir = `${assetDir}/${trackId}`;
  const { stdout } = await ffprobe([
    "-count_frames",
    "-show_entries", "stream=width,height,nb_read_frames:packet=flags",
    "-of", "json",
    `concat:${dir}/init.m4s|${segmentPath(dir, n)}`,
  ]);
  const probe = JSON.parse(stdout) as {
    streams?: { width?: number; height?: number; nb_read_frames?: string }[];
    packets?: { flags?: string }[];
  };
  const stream = probe.streams?.[0];
  return {
    width: stream?.width,
    height: stream?.height,
    frames: Number(stream?.nb_read_frames ?? 0),
    firstIsKey: probe.packets?.[0]?.flags?.startsWith("K") ?? false,
  };
}
