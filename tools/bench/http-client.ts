// Loopback HTTP for the benchmark: streaming downloads that hash as they go (optionally read slowly), and many requests released at once.
import { createHash } from "node:crypto";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export type Download = { status: number; headers: http.IncomingHttpHeaders; bytes: number; sha256: string; ms: number; body?: Buffer };

export type DownloadOptions = {
  agent?: http.Agent;
  method?: string;
  body?: Uint8Array;
  headers?: Record<string, string>;
  /** Read no faster than this: a slow viewer, whose backpressure should reach the origin. */
  bytesPerSecond?: number;
  keepBody?: boolean;
  timeoutMs?: number;
  /** Updated as bytes arrive, for a caller watching a transfer in flight. */
  progress?: { bytes: number };
};

export function download(url: string, o: DownloadOptions = {}): Promise<Download> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: o.method ?? "GET", agent: o.agent ?? false, headers: o.headers ?? {} }, (res) => {
      const hash = createHash("sha256");
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        if (o.keepBody) chunks.push(chunk);
        bytes += chunk.byteLength;
        if (o.progress) o.progress.bytes = bytes;
        if (o.bytesPerSecond) {
          const dueMs = (bytes / o.bytesPerSecond) * 1000 - (performance.now() - started);
          if (dueMs > 1) {
            res.pause();
            void sleep(dueMs).then(() => res.resume());
          }
        }
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes,
          sha256: hash.digest("hex"),
          ms: performance.now() - started,
          ...(o.keepBody ? { body: Buffer.concat(chunks) } : {}),
        }),
      );
      res.on("error", reject);
    });
    req.setTimeout(o.timeoutMs ?? 60_000, () => req.destroy(new Error(`${url} timed out`)));
    req.on("error", reject);
    req.end(o.body);
  });
}

/**
 * Opens `n` keep-alive connections first (on `warmPath`), then sends `n` requests for `url`
 * in one tick, so they reach the server together rather than staggered by TCP handshakes.
 */
export async function releaseTogether(url: string, n: number, warmPath: string): Promise<Download[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n });
  try {
    const warm = new URL(warmPath, url).toString();
    await Promise.all(Array.from({ length: n }, () => download(warm, { agent })));
    return await Promise.all(Array.from({ length: n }, () => download(url, { agent, keepBody: true, timeoutMs: 30_000 })));
  } finally {
    agent.destroy();
  }
}
