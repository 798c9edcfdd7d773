// A bare static file server on loopback, serving from memory: the baseline a benchmark
// compares the Workers against (what a player would see from the plainest origin).
import http from "node:http";
import type { AddressInfo } from "node:net";

export type StaticFile = { body: Uint8Array; contentType: string };

export type StaticServer = {
  url: string;
  /** Every request answered, in order: for counting, and for spotting a 404. */
  requests: { path: string; status: number }[];
  close: () => Promise<void>;
};

/** Serves `files` (keyed by URL path, e.g. "/demo-aurora/master.m3u8") to GET and HEAD; anything else is 404. */
export function startStaticServer(files: Map<string, StaticFile>): Promise<StaticServer> {
  const requests: StaticServer["requests"] = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const file = req.method === "GET" || req.method === "HEAD" ? files.get(path) : undefined;
    if (!file) {
      requests.push({ path, status: 404 });
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    requests.push({ path, status: 200 });
    res.writeHead(200, { "Content-Type": file.contentType, "Content-Length": String(file.body.byteLength), "Cache-Control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : file.body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * A multivariant playlist as a plain static server would serve it: without content
 * steering (docs/media-origin.md), whose other pathways and steering server a static copy
 * cannot answer. Keeps the pathway the playlist was requested on (its URIs are the
 * relative ones) and drops the EXT-X-CONTENT-STEERING tag, the other pathways' variants
 * and renditions, and the PATHWAY-ID attributes.
 */
export function withoutSteering(master: string): string {
  const lines = master.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("#EXT-X-CONTENT-STEERING:")) continue;
    // Another pathway's renditions are named by absolute paths.
    if (line.startsWith("#EXT-X-MEDIA:") && line.includes('URI="/')) continue;
    if (line.startsWith("#EXT-X-STREAM-INF:") && (lines[i + 1] ?? "").startsWith("/")) {
      i++;
      continue;
    }
    out.push(line.replace(/,PATHWAY-ID="[^"]*"/, ""));
  }
  return out.join("\n");
}
