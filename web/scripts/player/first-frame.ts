// The first frame without hls.js (docs/qoe.md, "Start faster"). The Play answer carries
// the multivariant playlist and the start variant's media playlists, and the prefetch
// (./prefetch.ts) has the init and first media segment of its video and audio on the way:
// that is all a first frame needs. So the watch page opens a MediaSource itself, appends
// those four files and plays, with none of hls.js's 440 KB parsed yet; hls.js is loaded
// after the first frame and takes the same MediaSource and SourceBuffers over
// (`attachMedia({ media, mediaSource, tracks })`), loading on from the end of the buffer.
//
// Only for what this can do exactly as hls.js would: a VOD stream (live starts at an edge
// hls.js computes), fMP4 with separate video and audio (or video alone), codecs the browser
// takes. Anything else starts with hls.js, as before.
import type { FirstFramePlan } from "./first-frame-plan.ts";

/** The SourceBuffer of one track, as hls.js's `attachMedia` takes it over. */
export type HandedTrack = { buffer: SourceBuffer; codec: string; container: "video/mp4" | "audio/mp4" };

/** What the first frame leaves for hls.js: the open MediaSource and its SourceBuffers. */
export type Handover = { mediaSource: MediaSource; video: HandedTrack; audio: HandedTrack | null };

function once(target: EventTarget, type: string, failOn?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      target.removeEventListener(type, done);
      if (failOn) target.removeEventListener(failOn, failed);
      resolve();
    };
    const failed = () => {
      target.removeEventListener(type, done);
      target.removeEventListener(failOn!, failed);
      reject(new Error(`${failOn} on ${type}`));
    };
    target.addEventListener(type, done);
    if (failOn) target.addEventListener(failOn, failed);
  });
}

async function append(buffer: SourceBuffer, data: ArrayBuffer): Promise<void> {
  const done = once(buffer, "updateend", "error");
  buffer.appendBuffer(data);
  await done;
}

/**
 * Opens a MediaSource on `video`, appends the plan's init and media segment of each track
 * (`bytes` answers a file's bytes: the prefetch's) and, at `positionSec`, leaves it ready
 * to play. Rejects on any failure: the caller then lets hls.js start from nothing.
 */
export async function playFirstFrame(video: HTMLVideoElement, plan: FirstFramePlan, positionSec: number, bytes: (url: string) => Promise<ArrayBuffer>): Promise<Handover> {
  // Every file asked for at once, before the MediaSource is even open.
  const files = [plan.video.init, plan.video.segment, ...(plan.audio ? [plan.audio.init, plan.audio.segment] : [])].map((url) => bytes(url));
  files.forEach((f) => f.catch(() => undefined));
  const mediaSource = new MediaSource();
  const opened = once(mediaSource, "sourceopen");
  video.src = URL.createObjectURL(mediaSource);
  await opened;
  // Both SourceBuffers before any append (the MSE spec lets a browser refuse one added after data).
  const videoBuffer = mediaSource.addSourceBuffer(`video/mp4; codecs="${plan.video.codec}"`);
  const audioBuffer = plan.audio ? mediaSource.addSourceBuffer(`audio/mp4; codecs="${plan.audio.codec}"`) : null;
  const [videoInit, videoSegment, audioInit, audioSegment] = files;
  await Promise.all([
    (async () => {
      await append(videoBuffer, await videoInit!);
      await append(videoBuffer, await videoSegment!);
    })(),
    audioBuffer &&
      (async () => {
        await append(audioBuffer, await audioInit!);
        await append(audioBuffer, await audioSegment!);
      })(),
  ]);
  if (positionSec > 0) video.currentTime = positionSec;
  return {
    mediaSource,
    video: { buffer: videoBuffer, codec: plan.video.codec, container: "video/mp4" },
    audio: audioBuffer && plan.audio ? { buffer: audioBuffer, codec: plan.audio.codec, container: "audio/mp4" } : null,
  };
}
