// The live push's ffmpeg command: its arguments for any ladder and input, its printed
// form, and one real run of ffmpeg against a local server that records what was PUT.
import { spawn, spawnSync } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { DEFAULT_LADDER, formatCommand, liveFfmpegArgs, type Rung } from "../live/ffmpeg-command.ts";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status === 0;
const isCI = process.env.CI === "true" || process.env.CI === "1";

const ingest = { baseUrl: "http://localhost:8787/v1/live/lv_abc/ingest/", token: "tok_123" };
const testPattern = { kind: "test-pattern" } as const;

/** The value after each occurrence of a flag. */
const valuesOf = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
const valueOf = (args: string[], flag: string) => {
  const values = valuesOf(args, flag);
  expect(values, flag).toHaveLength(1);
  return values[0]!;
};

describe("liveFfmpegArgs", () => {
  it("maps the default ladder: audio first, one bitrate per video rung, URLs under baseUrl", () => {
    const args = liveFfmpegArgs(testPattern, DEFAULT_LADDER, ingest);
    expect(valueOf(args, "-var_stream_map")).toBe("a:0,agroup:aud,name:audio v:0,agroup:aud,name:720p v:1,agroup:aud,name:480p v:2,agroup:aud,name:240p");
    expect(valueOf(args, "-b:v:0")).toBe("2500k");
    expect(valueOf(args, "-b:v:1")).toBe("1000k");
    expect(valueOf(args, "-b:v:2")).toBe("400k");
    expect(args.filter((a) => a.startsWith("-b:v:"))).toHaveLength(3);
    expect(valueOf(args, "-b:a:0")).toBe("128k");
    expect(valueOf(args, "-filter_complex")).toBe("[0:v]split=3[s0][s1][s2];[s0]scale=1280:720[v0];[s1]scale=854:480[v1];[s2]scale=426:240[v2]");
    expect(valuesOf(args, "-map")).toEqual(["[v0]", "[v1]", "[v2]", "1:a"]);
    expect(valueOf(args, "-hls_segment_filename")).toBe("http://localhost:8787/v1/live/lv_abc/ingest/%v/%d.m4s");
    expect(args.at(-1)).toBe("http://localhost:8787/v1/live/lv_abc/ingest/%v/index.m3u8");
    expect(valueOf(args, "-headers")).toBe("Authorization: Bearer tok_123\r\n");
    expect(valueOf(args, "-method")).toBe("PUT");
    expect(valueOf(args, "-hls_time")).toBe("2");
    expect(valueOf(args, "-hls_segment_type")).toBe("fmp4");
    expect(valueOf(args, "-hls_flags")).toBe("program_date_time+independent_segments");
    // A 2 s GOP at 30 fps, with keyframes forced onto the segment boundaries.
    expect(valueOf(args, "-g")).toBe("60");
    expect(valueOf(args, "-keyint_min")).toBe("60");
    expect(valueOf(args, "-r")).toBe("30");
    expect(valueOf(args, "-force_key_frames")).toBe("expr:gte(t,n_forced*2)");
    expect(args).not.toContain("-t");
  });

  it("stops after durationSec only when it is given", () => {
    const args = liveFfmpegArgs(testPattern, DEFAULT_LADDER, ingest, { durationSec: 3 });
    expect(valueOf(args, "-t")).toBe("3");
    // An output option: before the output URL, after every input.
    expect(args.indexOf("-t")).toBeGreaterThan(args.lastIndexOf("-i"));
  });

  it("derives the GOP from the segment length and frame rate", () => {
    const args = liveFfmpegArgs(testPattern, DEFAULT_LADDER, ingest, { segmentSec: 4, frameRate: 25 });
    expect(valueOf(args, "-g")).toBe("100");
    expect(valueOf(args, "-r")).toBe("25");
    expect(valueOf(args, "-hls_time")).toBe("4");
    expect(valueOf(args, "-force_key_frames")).toBe("expr:gte(t,n_forced*4)");
    expect(valuesOf(args, "-i")[0]).toBe("testsrc2=size=1280x720:rate=25");
  });

  it("follows a custom 2-rung ladder in its order", () => {
    const ladder: Rung[] = [
      { name: "stereo", kind: "audio", bitrateKbps: 96 },
      { name: "hd", kind: "video", width: 1920, height: 1080, bitrateKbps: 5000 },
    ];
    const args = liveFfmpegArgs(testPattern, ladder, ingest);
    expect(valueOf(args, "-var_stream_map")).toBe("a:0,agroup:aud,name:stereo v:0,agroup:aud,name:hd");
    expect(valueOf(args, "-b:v:0")).toBe("5000k");
    expect(args.filter((a) => a.startsWith("-b:v:"))).toHaveLength(1);
    expect(valueOf(args, "-b:a:0")).toBe("96k");
    expect(valueOf(args, "-filter_complex")).toBe("[0:v]scale=1920:1080[v0]");
    expect(valuesOf(args, "-i")[0]).toBe("testsrc2=size=1920x1080:rate=30");
  });

  it("leaves audio out entirely for a ladder without an audio rung", () => {
    const ladder: Rung[] = [
      { name: "a", kind: "video", width: 640, height: 360, bitrateKbps: 800 },
      { name: "b", kind: "video", width: 320, height: 180, bitrateKbps: 300 },
    ];
    const args = liveFfmpegArgs(testPattern, ladder, ingest);
    expect(valueOf(args, "-var_stream_map")).toBe("v:0,name:a v:1,name:b");
    expect(valuesOf(args, "-i")).toHaveLength(1);
    expect(args).not.toContain("-c:a");
  });

  it("reads a file in real time, with its first audio stream", () => {
    const args = liveFfmpegArgs({ kind: "file", path: "/videos/my film.mp4" }, DEFAULT_LADDER, ingest);
    expect(valuesOf(args, "-i")).toEqual(["/videos/my film.mp4"]);
    expect(args[args.indexOf("-i") - 1]).toBe("-re");
    expect(args).not.toContain("lavfi");
    expect(valueOf(args, "-filter_complex")).toMatch(/^\[0:v:0\]split=3\[s0\]\[s1\]\[s2\];\[s0\]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720/);
    expect(valuesOf(args, "-map")).toEqual(["[v0]", "[v1]", "[v2]", "0:a:0?"]);
    expect(args).not.toContain("-shortest");
  });

  it("puts silence under a file without audio, and stops with the file", () => {
    const args = liveFfmpegArgs({ kind: "file", path: "silent.mp4", hasAudio: false }, DEFAULT_LADDER, ingest);
    expect(valuesOf(args, "-i")).toEqual(["silent.mp4", "anullsrc=r=48000:cl=stereo"]);
    expect(valuesOf(args, "-map")).toEqual(["[v0]", "[v1]", "[v2]", "1:a"]);
    expect(args).toContain("-shortest");
  });

  it("generates a test pattern and a tone", () => {
    const args = liveFfmpegArgs(testPattern, DEFAULT_LADDER, ingest);
    expect(valuesOf(args, "-i")).toEqual(["testsrc2=size=1280x720:rate=30", "sine=frequency=440:sample_rate=48000"]);
    expect(valuesOf(args, "-f").slice(0, 2)).toEqual(["lavfi", "lavfi"]);
  });

  it("adds the missing slash to baseUrl", () => {
    const args = liveFfmpegArgs(testPattern, DEFAULT_LADDER, { ...ingest, baseUrl: "http://h/ingest" });
    expect(args.at(-1)).toBe("http://h/ingest/%v/index.m3u8");
  });

  it("refuses ladders and URLs it cannot encode faithfully", () => {
    const video: Rung = { name: "720p", kind: "video", width: 1280, height: 720, bitrateKbps: 2500 };
    expect(() => liveFfmpegArgs(testPattern, [{ name: "audio", kind: "audio", bitrateKbps: 128 }], ingest)).toThrow(/no video rung/);
    expect(() => liveFfmpegArgs(testPattern, [{ ...video, name: "7 20p" }], ingest)).toThrow(/rung name/);
    expect(() => liveFfmpegArgs(testPattern, [video, video], ingest)).toThrow(/twice/);
    expect(() => liveFfmpegArgs(testPattern, [{ ...video, width: 853 }], ingest)).toThrow(/even/);
    expect(() => liveFfmpegArgs(testPattern, DEFAULT_LADDER, { ...ingest, baseUrl: "http://h/a%20b/" })).toThrow(/%/);
    expect(() => liveFfmpegArgs(testPattern, DEFAULT_LADDER, ingest, { durationSec: 0 })).toThrow(/durationSec/);
  });
});

describe("formatCommand", () => {
  it("leaves plain arguments alone and quotes the rest for a shell", () => {
    expect(formatCommand(["-i", "in.mp4", "-b:v:0", "2500k"])).toBe("ffmpeg -i in.mp4 -b:v:0 2500k");
    expect(formatCommand(["-i", "my film.mp4"])).toBe("ffmpeg -i 'my film.mp4'");
    expect(formatCommand(["-i", "it's.mp4"])).toBe(`ffmpeg -i 'it'\\''s.mp4'`);
    expect(formatCommand(["-filter_complex", "[0:v]split=2[a][b]"])).toBe("ffmpeg -filter_complex '[0:v]split=2[a][b]'");
    expect(formatCommand(["-x", "$HOME"])).toBe("ffmpeg -x '$HOME'");
    expect(formatCommand(["-x", ""])).toBe("ffmpeg -x ''");
  });

  it("shows the token as given, with the header's CRLF in ANSI-C quotes", () => {
    const text = formatCommand(liveFfmpegArgs(testPattern, DEFAULT_LADDER, ingest));
    expect(text).toContain("-headers $'Authorization: Bearer tok_123\\r\\n'");
    expect(text).toContain("-var_stream_map 'a:0,agroup:aud,name:audio v:0,agroup:aud,name:720p v:1,agroup:aud,name:480p v:2,agroup:aud,name:240p'");
    expect(text).toContain("http://localhost:8787/v1/live/lv_abc/ingest/%v/index.m3u8");
    expect(text).not.toMatch(/[\r\n]/);
  });

  it("prints what a shell turns back into the same arguments", (ctx) => {
    const bash = spawnSync("bash", ["--version"], { stdio: "ignore" }).status === 0;
    ctx.skip(!bash, "bash is not on PATH");
    const args = liveFfmpegArgs({ kind: "file", path: "it's a \"film\".mp4" }, DEFAULT_LADDER, ingest);
    // printf '%s\0' echoes each argument as bash parsed it, NUL-terminated.
    const out = spawnSync("bash", ["-c", formatCommand(["%s\\0", ...args], "printf")], { encoding: "utf8" });
    expect(out.stdout.split("\0").slice(0, -1)).toEqual(args);
  });
});

type Put = { method: string; path: string; bytes: number; authorization: string | undefined };

async function recordingServer(): Promise<{ baseUrl: string; requests: Put[]; close: () => Promise<void> }> {
  const requests: Put[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", bytes, authorization: req.headers.authorization });
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1/live/lv_test/ingest/`,
    requests,
    close: () => {
      // ffmpeg's persistent connections would otherwise hold close() open.
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("the live command against a recording server", () => {
  it("PUTs every rendition's init, first segment and playlist with the bearer token", async (ctx) => {
    ctx.skip(!hasFfmpeg && !isCI, "ffmpeg is not on PATH (sudo apt-get install -y ffmpeg)");
    expect(hasFfmpeg, "ffmpeg is required under CI: sudo apt-get install -y ffmpeg").toBe(true);
    const server = await recordingServer();
    try {
      const args = liveFfmpegArgs(testPattern, DEFAULT_LADDER, { baseUrl: server.baseUrl, token: "tok_live" }, { durationSec: 3 });
      const result = await run(args);
      expect(result.code, result.stderr).toBe(0);

      const prefix = "/v1/live/lv_test/ingest/";
      expect(server.requests.length).toBeGreaterThan(0);
      for (const r of server.requests) {
        expect(r.method, r.path).toBe("PUT");
        expect(r.authorization, r.path).toBe("Bearer tok_live");
        expect(r.path.startsWith(prefix), r.path).toBe(true);
      }
      const paths = server.requests.map((r) => r.path.slice(prefix.length));
      const sized = (p: string) => server.requests.some((r) => r.path === prefix + p && r.bytes > 0);
      for (const rung of DEFAULT_LADDER) {
        const init = paths.find((p) => new RegExp(`^${rung.name}/init_\\d+\\.mp4$`).test(p));
        expect(init, `${rung.name} init in ${paths.join(" ")}`).toBeDefined();
        expect(sized(init!), `${init} has a body`).toBe(true);
        expect(sized(`${rung.name}/0.m4s`), `${rung.name}/0.m4s in ${paths.join(" ")}`).toBe(true);
        expect(sized(`${rung.name}/index.m3u8`), `${rung.name}/index.m3u8 in ${paths.join(" ")}`).toBe(true);
      }
      // One init per rendition, numbered by its place in var_stream_map.
      expect(new Set(paths.filter((p) => /\/init_\d+\.mp4$/.test(p)))).toEqual(new Set(["audio/init_0.mp4", "720p/init_1.mp4", "480p/init_2.mp4", "240p/init_3.mp4"]));
    } finally {
      await server.close();
    }
  });
});
