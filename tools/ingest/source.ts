// What a packaging run reads: a file on disk or a synthetic lavfi scene, behind one shape of ffmpeg inputs.
import { probeSource, type SourceInfo } from "./probe.ts";

export type FileInput = { kind: "file"; path: string };

/** A generated source (the demo title): its facts are declared, since ffprobe cannot see a filter graph. */
export type LavfiInput = {
  kind: "lavfi";
  /** ffmpeg input options, e.g. `["-f", "lavfi", "-i", "testsrc2=..."]`. */
  args: string[];
  /** filter_complex chains that end in the pad `[video]` and, with audio, `[audio]`. */
  graph: string;
  durationSec: number;
  width: number;
  height: number;
  /** Exact, as a fraction: `24/1`, `30000/1001`. */
  frameRate: string;
  audio: { channels: number; sampleRate: number } | null;
};

export type PackageInput = FileInput | LavfiInput;

export type MediaSource = {
  info: SourceInfo;
  /** ffmpeg input options, reading only `window` where the input can seek. */
  inputArgs: (window?: TimeWindow) => string[];
  /** Chains (possibly none) that define the pads below. */
  graph: string;
  videoPad: string;
  audioPad: string | null;
  /** The pads are outputs of `graph`, which ffmpeg insists are consumed even when unused. */
  padsFromGraph: boolean;
  /** Whether inputArgs honours a window; a lavfi scene is generated from its start. */
  seekable: boolean;
};

export type TimeWindow = { startSec: number; durationSec: number };

export async function openSource(input: PackageInput): Promise<MediaSource> {
  return input.kind === "file" ? openFile(input.path) : openLavfi(input);
}

async function openFile(path: string): Promise<MediaSource> {
  const info = await probeSource(path);
  return {
    info,
    inputArgs: (window) => [...(window ? ["-ss", String(window.startSec), "-t", String(window.durationSec)] : []), "-i", path],
    graph: "",
    videoPad: `[0:${info.videoStreamIndex}]`,
    audioPad: info.audio ? `[0:${info.audio.streamIndex}]` : null,
    padsFromGraph: false,
    seekable: true,
  };
}

function openLavfi(input: LavfiInput): MediaSource {
  const [num = "", den = "1"] = input.frameRate.split("/");
  return {
    info: {
      durationSec: input.durationSec,
      width: input.width,
      height: input.height,
      rotation: 0,
      frameRate: Number(num) / Number(den),
      frameRateFraction: `${num}/${den}`,
      variableFrameRate: false,
      videoCodec: "lavfi",
      videoStreamIndex: -1,
      hasAudio: input.audio !== null,
      audio: input.audio ? { streamIndex: -1, codec: "lavfi", ...input.audio, language: null } : null,
      formatName: "lavfi",
    },
    inputArgs: () => input.args,
    graph: input.graph,
    videoPad: "[video]",
    audioPad: input.audio ? "[audio]" : null,
    padsFromGraph: true,
    seekable: false,
  };
}

/** `graph;chain` without a dangling separator when the source defines no chains. */
export function withGraph(source: MediaSource, chains: string[]): string {
  return [source.graph, ...chains].filter((chain) => chain !== "").join(";");
}
