// The catalog import CLI's bookkeeping: chunks keep every line (blank ones too), and a
// chunk's failures map back to line numbers in the whole file — checked against a fake
// import server on loopback that numbers lines the way the Worker does.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChunk, chunkLines, postChunk, toFileLines, type ChunkReport, type Totals } from "../catalog-import.ts";

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

describe("chunkLines", () => {
  it("splits into chunks of the given size, numbering from each chunk's first line", async () => {
    const lines = Array.from({ length: 12 }, (_, i) => (i === 4 ? "" : `l${i + 1}`));
    const chunks = await collect(chunkLines(lines, 5));
    expect(chunks.map((c) => [c.firstLine, c.lineCount])).toEqual([
      [1, 5],
      [6, 5],
      [11, 2],
    ]);
    expect(chunks[0]!.body).toBe("l1\nl2\nl3\nl4\n\n");
    expect(chunks[2]!.body).toBe("l11\nl12\n");
    expect(chunks.reduce((n, c) => n + c.bytes, 0)).toBe(lines.join("\n").length + 1);
  });

  it("yields nothing for an empty file", async () => {
    expect(await collect(chunkLines([], 5))).toEqual([]);
  });
});

describe("line numbers across chunks", () => {
  it("are offset by the chunk's first line", () => {
    expect(toFileLines([{ line: 1, errors: [] }, { line: 3, errors: [] }], 5001).map((f) => f.line)).toEqual([5001, 5003]);
  });

  let server: Server;
  let base: string;
  beforeAll(async () => {
    // Like the Worker: 1-based line numbers within the request, blank lines counted but skipped, bad JSON failed.
    server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (d: string) => (body += d));
      req.on("end", () => {
        const report: ChunkReport = { imported: 0, failed: [], failedCount: 0 };
        body
          .replace(/\n$/, "")
          .split("\n")
          .forEach((line, i) => {
            if (line.trim() === "") return;
            try {
              JSON.parse(line);
              report.imported++;
            } catch {
              report.failedCount++;
              report.failed.push({ line: i + 1, errors: [{ path: "", message: "not JSON" }] });
            }
          });
        res.writeHead(req.headers.authorization === "Bearer t" ? 200 : 401, { "content-type": "application/json" });
        res.end(JSON.stringify(report));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("come out as the file's own when a file is sent in several requests", async () => {
    const bad = new Set([3, 7, 8, 15, 23]);
    const lines = Array.from({ length: 23 }, (_, i) => (i + 1 === 10 ? "" : bad.has(i + 1) ? "{oops" : JSON.stringify({ id: `t${i + 1}` })));
    let totals: Totals = { imported: 0, failed: [], failedCount: 0, lines: 0 };
    for await (const chunk of chunkLines(lines, 4)) totals = addChunk(totals, chunk, await postChunk(base, "t", chunk.body));
    expect(totals.failed.map((f) => f.line)).toEqual([...bad]);
    expect(totals.failedCount).toBe(5);
    expect(totals.imported).toBe(23 - 5 - 1);
    expect(totals.lines).toBe(23);
  });

  it("stops on a refusal that retrying cannot fix", async () => {
    await expect(postChunk(base, "wrong", "{}\n")).rejects.toThrow(/401/);
  });
});
