// Files an encode run's flat dash output as `{trackId}/init.m4s` + `{trackId}/{n}.m4s` and describes each track.
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import path from "node:path";
import type { AudioTrack, SegmentList, VideoRendition } from "../../lib/media-index.ts";
import { requiredAttr, type MpdRepresentation } from "./mpd.ts";

/** One track's files once moved into the asset folder. */
export type TrackFiles = { id: string; dir: string; segmentCount: number };

export async function moveTrack(workDir: string, streamIndex: number, assetDir: string, trackId: string): Promise<TrackFiles> {
  const dir = path.join(assetDir, trackId);
  await mkdir(dir);
  await rename(path.join(workDir, `init-${streamIndex}.m4s`), path.join(dir, "init.m4s"));
  const prefix = `chunk-${streamIndex}-`;
  const chunks = (await readdir(workDir)).filter((name) => name.startsWith(prefix));
  for (const name of chunks) await rename(path.join(workDir, name), path.join(dir, name.slice(prefix.length)));
  return { id: trackId, dir, segmentCount: chunks.length };
}

export function segmentPath(trackDir: string, n: number): string {
  return path.join(trackDir, `${n}.m4s`);
}

async function segmentList(track: TrackFiles, rep: MpdRepresentation): Promise<SegmentList> {
  if (rep.durations.length !== track.segmentCount) {
    throw new Error(`${track.id}: the MPD lists ${rep.durations.length} segments but ${track.segmentCount} were written`);
  }
  const bytes = await Promise.all(rep.durations.map(async (_, i) => (await stat(segmentPath(track.dir, rep.startNumber + i))).size));
  return { timescale: rep.timescale, startNumber: rep.startNumber, durations: rep.durations, bytes };
}

/** Peak over any one segment (HLS BANDWIDTH) and mean over the track (AVERAGE-BANDWIDTH), bits/s. */
export function bandwidths({ timescale, durations, bytes }: SegmentList): { bandwidth: number; averageBandwidth: number } {
  const perSegment = durations.map((units, i) => (bytes[i]! * 8 * timescale) / units);
  const totalBits = bytes.reduce((sum, b) => sum + b * 8, 0);
  const totalUnits = durations.reduce((sum, d) => sum + d, 0);
  return {
    // Rounded up: a player budgeting for the peak must never be told less than it gets.
    bandwidth: Math.ceil(Math.max(...perSegment)),
    averageBandwidth: Math.round((totalBits * timescale) / totalUnits),
  };
}

export async function videoRendition(track: TrackFiles, rep: MpdRepresentation): Promise<VideoRendition> {
  const segments = await segmentList(track, rep);
  const [num = "", den = "1"] = requiredAttr(rep.setAttrs, "frameRate").split("/");
  return {
    id: track.id,
    codecs: requiredAttr(rep.attrs, "codecs"),
    ...bandwidths(segments),
    segments,
    width: Number(requiredAttr(rep.attrs, "width")),
    height: Number(requiredAttr(rep.attrs, "height")),
    frameRate: Number(num) / Number(den),
  };
}

export async function audioTrack(
  track: TrackFiles,
  rep: MpdRepresentation,
  label: { lang: string; name: string },
): Promise<AudioTrack> {
  if (rep.channels === null) throw new Error(`${track.id}: the MPD gives no channel count`);
  const segments = await segmentList(track, rep);
  return {
    id: track.id,
    codecs: requiredAttr(rep.attrs, "codecs"),
    ...bandwidths(segments),
    segments,
    lang: label.lang,
    name: label.name,
    channels: rep.channels,
    sampleRate: Number(requiredAttr(rep.attrs, "audioSamplingRate")),
    default: true,
  };
}

export function seconds(segments: SegmentList): number[] {
  return segments.durations.map((d) => d / segments.timescale);
}
