// Reads what an input file is (ffprobe) and refuses, with a human message, anything that is not a usable video.
import { constants } from "node:fs";
import { access, open, stat } from "node:fs/promises";
import { IngestInputError } from "./errors.ts";
import { ToolError, ffprobe } from "./ffmpeg.ts";

export type SourceAudio = {
  /** Absolute stream index in the file, for `-map 0:{index}`. */
  streamIndex: number;
  codec: string;
  channels: number;
  sampleRate: number;
  /** The stream's language tag as written (often ISO 639-2, e.g. `eng`), or null. */
  language: string | null;
};

export type SourceInfo = {
  /** From the file's start to the end of the video: what the packaged video will last. */
  durationSec: number;
  /** The picture as displayed: after the rotation ffmpeg applies on decode and the sample aspect ratio. */
  width: number;
  height: number;
  /** Clockwise degrees the picture is turned on display (0, 90, 180 or 270). */
  rotation: number;
  /** Frames per second, from avg_frame_rate, as a number and as ffprobe's fraction. */
  frameRate: number;
  frameRateFraction: string;
  /** Only a hint (r_frame_rate differs from avg_frame_rate); the output is made constant either way. */
  variableFrameRate: boolean;
  videoCodec: string;
  videoStreamIndex: number;
  hasAudio: boolean;
  audio: SourceAudio | null;
  formatName: string;
};

type ProbeStream = {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  channels?: number;
  sample_rate?: string;
  disposition?: { default?: number; attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
};

type ProbeFormat = { format_name?: string; duration?: string; start_time?: string };

type Probe = { streams?: ProbeStream[]; format?: ProbeFormat };

/** Codecs that are pictures, not moving video, when a file holds one frame of them. */
const STILL_CODECS = new Set(["png", "mjpeg", "jpeg2000", "bmp", "gif", "webp", "tiff", "ppm", "pgm", "pam", "jpegls", "qoi"]);

export async function probeSource(path: string): Promise<SourceInfo> {
  await requireReadableFile(path);
  const probe = await runProbe(path);
  const format = probe.format ?? {};
  const streams = probe.streams ?? [];
  const video = pickVideo(path, streams, format);
  const durationSec = videoEndSec(video, format);
  if (!(durationSec >= 1)) throw new IngestInputError(`${path} is shorter than 1 second`, "TOO_SHORT");
  const rotation = rotationOf(video);
  const { width, height } = displaySize(video, rotation);
  if (width < 2 || height < 2) throw new IngestInputError(`${path} is truncated or corrupt`, "CORRUPT");
  const avg = parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate);
  if (!avg) throw new IngestInputError(`${path} is not a video file`, "NOT_A_VIDEO");
  const real = parseRate(video.r_frame_rate);
  const audio = pickAudio(streams);
  return {
    durationSec,
    width,
    height,
    rotation,
    frameRate: avg.value,
    frameRateFraction: avg.fraction,
    variableFrameRate: real !== null && Math.abs(real.value - avg.value) > avg.value * 0.01,
    videoCodec: video.codec_name ?? "unknown",
    videoStreamIndex: video.index,
    hasAudio: audio !== null,
    audio,
    formatName: format.format_name ?? "unknown",
  };
}

async function requireReadableFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new IngestInputError(`${path} does not exist`, "INPUT_NOT_FOUND");
  if (!info.isFile()) throw new IngestInputError(`${path} is not a file`, "INPUT_UNREADABLE");
  await access(path, constants.R_OK).catch(() => {
    throw new IngestInputError(`${path} is unreadable`, "INPUT_UNREADABLE");
  });
  if (info.size === 0) throw new IngestInputError(`${path} is not a video file`, "NOT_A_VIDEO");
}

async function runProbe(path: string): Promise<Probe> {
  try {
    const { stdout } = await ffprobe(["-print_format", "json", "-show_format", "-show_streams", path]);
    return JSON.parse(stdout) as Probe;
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    // An mp4 cut short before its index (moov written last) is damaged, not foreign; but
    // ffprobe says "moov atom not found" of anything named .mp4, a text file included.
    if (/moov atom not found|partial file/i.test(error.stderr) && (await looksLikeMp4(path))) {
      throw new IngestInputError(`${path} is truncated or corrupt`, "CORRUPT");
    }
    throw new IngestInputError(`${path} is not a video file`, "NOT_A_VIDEO");
  }
}

/** ISO BMFF (mp4, mov, m4v, 3gp) opens with a box: 4 bytes of size, then a known type. */
async function looksLikeMp4(path: string): Promise<boolean> {
  const file = await open(path, "r");
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(8), 0, 8, 0);
    return bytesRead === 8 && ["ftyp", "moov", "mdat", "free", "skip", "wide", "pnot"].includes(buffer.toString("latin1", 4, 8));
  } finally {
    await file.close();
  }
}

function pickVideo(path: string, streams: ProbeStream[], format: ProbeFormat): ProbeStream {
  // Cover art in an mp3 or m4a is a video stream flagged attached_pic: a picture, not a video.
  const pictures = streams.filter((s) => s.codec_type === "video");
  const moving = pictures.filter((s) => !s.disposition?.attached_pic && !isStillImage(s, format));
  const video = moving[0];
  if (video) return video;
  if (pictures.length > 0 && !streams.some((s) => s.codec_type === "audio")) {
    throw new IngestInputError(`${path} is a still image, not a video`, "STILL_IMAGE");
  }
  if (streams.some((s) => s.codec_type === "audio")) {
    throw new IngestInputError(`${path} has no video stream`, "NO_VIDEO_STREAM");
  }
  throw new IngestInputError(`${path} is not a video file`, "NOT_A_VIDEO");
}

/**
 * A picture, not a video: an image format, a single frame, no duration at all, or an image
 * codec of unknown length without a duration of its own (Motion JPEG in Matroska has one
 * in its tags, so it still counts as video).
 */
function isStillImage(stream: ProbeStream, format: ProbeFormat): boolean {
  if (/(^|,)(image2|[a-z0-9]+_pipe)(,|$)/.test(format.format_name ?? "")) return true;
  const frames = stream.nb_frames === undefined ? null : Number(stream.nb_frames);
  if (frames !== null && frames <= 1) return true;
  if (!Number.isFinite(Number(stream.duration ?? format.duration ?? NaN))) return true;
  const ownDuration = stream.duration !== undefined || stream.tags?.DURATION !== undefined;
  return STILL_CODECS.has(stream.codec_name ?? "") && frames === null && !ownDuration;
}

/** The video's end on the file's timeline: ffmpeg starts output at the file's earliest stream. */
function videoEndSec(video: ProbeStream, format: ProbeFormat): number {
  const fileStart = Number(format.start_time ?? 0) || 0;
  const videoStart = Number(video.start_time ?? fileStart) || fileStart;
  // Matroska keeps per-stream durations in a tag, e.g. "00:01:02.500000000".
  const own = Number(video.duration ?? NaN);
  const tagged = parseClock(video.tags?.DURATION ?? video.tags?.duration);
  const streamDuration = Number.isFinite(own) ? own : tagged;
  if (streamDuration !== null && Number.isFinite(streamDuration)) return videoStart - fileStart + streamDuration;
  return Number(format.duration ?? NaN);
}

function parseClock(text: string | undefined): number | null {
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text ?? "");
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : null;
}

/**
 * ffmpeg autorotates on decode, turning the picture by the display matrix; the rotate tag
 * is what older files carry instead. Both normalise to clockwise degrees.
 */
function rotationOf(video: ProbeStream): number {
  const matrix = video.side_data_list?.find((d) => d.side_data_type === "Display Matrix" && d.rotation !== undefined);
  // The matrix's angle is counter-clockwise (av_display_rotation_get); ffmpeg turns by its negation.
  const degrees = matrix ? -matrix.rotation! : Number(video.tags?.rotate ?? 0) || 0;
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
}

function displaySize(video: ProbeStream, rotation: number): { width: number; height: number } {
  const coded = { width: video.width ?? 0, height: video.height ?? 0 };
  const sar = parseRate(video.sample_aspect_ratio?.replace(":", "/"));
  // Anamorphic sources (e.g. DVD's 720x480 at 32:27) are shown wider than they are stored.
  const width = sar && sar.value > 0 ? Math.round(coded.width * sar.value) : coded.width;
  return rotation % 180 === 0 ? { width, height: coded.height } : { width: coded.height, height: width };
}

function parseRate(text: string | undefined): { value: number; fraction: string } | null {
  const [num, den = "1"] = (text ?? "").split("/");
  const value = Number(num) / Number(den);
  return Number.isFinite(value) && value > 0 ? { value, fraction: `${Number(num)}/${Number(den)}` } : null;
}

function pickAudio(streams: ProbeStream[]): SourceAudio | null {
  const audio = streams.filter((s) => s.codec_type === "audio" && (s.channels ?? 0) > 0);
  const chosen = audio.find((s) => s.disposition?.default) ?? audio[0];
  if (!chosen) return null;
  return {
    streamIndex: chosen.index,
    codec: chosen.codec_name ?? "unknown",
    channels: chosen.channels ?? 2,
    sampleRate: Number(chosen.sample_rate ?? 48_000),
    language: chosen.tags?.language ?? null,
  };
}
