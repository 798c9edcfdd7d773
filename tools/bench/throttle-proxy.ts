// A TCP proxy that makes one viewer's network worse: every chunk, in both directions,
// arrives `latencyMs` (± `jitterMs`) later than it was sent, never out of order, and no
// faster than `kbps`. Everything the throttled browser does goes through it — page, API,
// video segments and its WebSocket alike — which browser-side throttling (DevTools network
// conditions) does not promise for WebSocket frames.
import { createServer, connect, type Server, type Socket } from "node:net";

export type Throttle = { latencyMs: number; jitterMs: number; kbps: number };

export type ThrottleProxy = { port: number; close: () => Promise<void> };

/** Pipes `from` into `to` through a delay line: order kept, each chunk held until its time and its share of the bandwidth. */
function delayLine(from: Socket, to: Socket, t: Throttle, random: () => number): void {
  let nextFree = 0;
  const bytesPerMs = (t.kbps * 1000) / 8 / 1000;
  from.on("data", (chunk: Buffer) => {
    const now = Date.now();
    const jitter = (random() * 2 - 1) * t.jitterMs;
    // Order is kept: a chunk never overtakes the one before it.
    const due = Math.max(now + t.latencyMs + jitter, nextFree) + chunk.length / bytesPerMs;
    nextFree = due;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, Math.max(0, due - now));
  });
  from.on("end", () => setTimeout(() => to.end(), Math.max(0, nextFree - Date.now()) + t.latencyMs));
  from.on("error", () => to.destroy());
}

export function startThrottleProxy(upstreamPort: number, throttle: Throttle, random: () => number = Math.random): Promise<ThrottleProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.setNoDelay(true);
    }
    delayLine(client, upstream, throttle, random);
    delayLine(upstream, client, throttle, random);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
