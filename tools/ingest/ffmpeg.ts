// Runs ffmpeg and ffprobe for the ingest pipeline: exit codes, bounded stderr, -progress parsing, cancellation.
import { spawn, spawnSync } from "node:child_process";

/**
 * Without these, x264 (threaded rate control), the mp4 muxer and the JPEG encoder write
 * run-dependent bytes. They are output options: repeat them for every output file.
 */
export const BITEXACT = [
  "-threads", "1",
  "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
  "-map_metadata", "-1",
];

/** A failed ffmpeg/ffprobe run; `stderr` holds what the tool said (bounded). */
export class ToolError extends Error {
  readonly stderr: string;
  readonly exitCode: number | null;

  constructor(tool: string, exitCode: number | null, stderr: string) {
    super(`${tool} failed (exit ${exitCode}):\n${stderr.trim()}`);
    this.name = "ToolError";
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

export type ToolResult = { stdout: string; stderr: string };

export type RunOptions = {
  /** Called with the output position in seconds each time ffmpeg reports progress. */
  onOutTime?: (seconds: number) => void;
  signal?: AbortSignal;
};

/** A corrupt input can make ffmpeg print one line per packet for hours; keep the start, which names the cause. */
const STDERR_LIMIT = 64 * 1024;

export function requireFfmpeg(): void {
  for (const tool of ["ffmpeg", "ffprobe"]) {
    if (spawnSync(tool, ["-version"], { stdio: "ignore" }).status !== 0) {
      throw new Error("ffmpeg and ffprobe are required: sudo apt-get install -y ffmpeg");
    }
  }
}

export function ffprobe(args: string[], options: RunOptions = {}): Promise<ToolResult> {
  // ffprobe never reads stdin and rejects -nostdin.
  return runTool("ffprobe", ["-hide_banner", "-loglevel", "error", ...args], options);
}

export function ffmpeg(args: string[], options: RunOptions = {}): Promise<ToolResult> {
  const progress = options.onOutTime ? ["-progress", "pipe:1", "-nostats"] : [];
  return runTool("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", ...progress, ...args], options);
}

function runTool(tool: string, args: string[], options: RunOptions): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ["ignore", "pipe", "pipe"], signal: options.signal });
    let stdout = "";
    let stderr = "";
    let pending = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (!options.onOutTime) {
        stdout += chunk;
        return;
      }
      // -progress writes key=value lines; only out_time_us matters here.
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^out_time_us=(\d+)$/.exec(line.trim());
        if (match) options.onOutTime(Number(match[1]) / 1e6);
      }
    });
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.slice(0, STDERR_LIMIT - stderr.length);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new ToolError(tool, code, stderr));
    });
  });
}
