// Keeps a live stream near a wall-clock latency. hls.js places the playhead relative to the
// playlist's end, whose age varies with when the playlist was fetched (up to a segment,
// plus the edge cache's half segment), so viewers who joined at different moments sit 4 to
// 7 s behind real time. The program date-time says exactly how far behind the frame on
// screen is: past the target by more than a second, the playhead jumps forward within
// what is buffered.

/** Wall clock minus the program date-time on screen that the player aims at (docs/live.md). */
export const LIVE_TARGET_LATENCY_SEC = 4;
const TOLERANCE_SEC = 1;
/** Never jump closer than this to the end of the buffer: the next segment must have time to come. */
const BUFFER_MARGIN_SEC = 0.5;

/** Starts the controller; returns its stop. `playingDate` is hls.js's date of the frame on screen. */
export function keepLiveLatency(video: HTMLVideoElement, playingDate: () => Date | null, targetSec = LIVE_TARGET_LATENCY_SEC): () => void {
  const timer = setInterval(() => {
    const date = playingDate();
    if (!date || video.paused || video.seeking) return;
    const latency = (Date.now() - date.getTime()) / 1000;
    if (latency <= targetSec + TOLERANCE_SEC) return;
    const buffered = video.buffered;
    const end = buffered.length > 0 ? buffered.end(buffered.length - 1) : video.currentTime;
    const to = Math.min(video.currentTime + (latency - targetSec), end - BUFFER_MARGIN_SEC);
    if (to > video.currentTime + 0.25) video.currentTime = to;
  }, 1000);
  return () => clearInterval(timer);
}
