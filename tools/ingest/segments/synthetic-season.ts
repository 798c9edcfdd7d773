// A small generated season with known intro, recap and credits, for tests and the
// evaluation of detection (evaluate.ts): ffmpeg's lavfi sources only, deterministic per seed.
//
// Each episode: an optional cold open (its own content), then from episode 2 on a recap (a
// clip of the previous episode's body, taken from the part of it its analysis keeps: its
// tail, see analyze.ts), then the season's intro (one jingle and title card, identical in
// every episode, at a different offset in each), the episode's body (scenes with their own
// pictures and sound: melodies and noise from the episode's own random numbers; sometimes a
// dim "night" scene, so that dark pictures alone do not mean credits), and rolling credits on
// black over the season's end-credits music. Every length is a whole number of frames, so
// the truth is exact.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import type { SkipSegmentKind } from "../../../lib/skip-segments.ts";
import { BITEXACT, ffmpeg } from "../ffmpeg.ts";

export type SyntheticSeasonOptions = {
  episodes?: number;
  seed?: number;
  /** Length of each episode (default 90 s; at least 75, so the intro fits in the first third). */
  durationSec?: number;
  /** Picture size, default 320x180. */
  width?: number;
  height?: number;
};

export type TruthSegment = { kind: SkipSegmentKind; startSec: number; endSec: number };

export type SyntheticSeason = { files: string[]; truth: TruthSegment[][] };

const FPS = 25;
/** Sound is generated at 22050 Hz (aevalsrc evaluates its expression per sample) and encoded at 44100 Hz. */
const GENERATED_RATE = 22_050;
const SAMPLE_RATE = 44_100;
/** Below this, a cold open, a recap and the intro do not fit in the first third. */
const MIN_DURATION_SEC = 75;

/** A melody: notes of `rate` per second, pitches from a base and a pseudo-random walk, with harmonics. */
type Voice = { base: number; rate: number; a: number; b: number; c: number; range: number; decay: number; amp: number };
type Noise = { color: "white" | "pink" | "brown"; seed: number; amp: number };
type Sound = { voices: Voice[]; noise: Noise };
type Picture =
  | { kind: "testsrc2" }
  | { kind: "mandelbrot"; scale: number }
  | { kind: "cellauto"; rule: number; seed: number }
  | { kind: "life"; seed: number; color: string }
  | { kind: "color"; color: string; hueSpeed: number }
  | { kind: "night"; color: string }
  | { kind: "title"; text: string; color: string }
  | { kind: "credits"; lines: string[] };

/** A generated stretch of picture and sound; `from` seconds into it are skipped (a recap's clip). */
type Scene = { picture: Picture; sound: Sound; label: string; lengthSec: number };
type Part = { scene: Scene; fromSec: number; lengthSec: number };

type EpisodePlan = { parts: Part[]; truth: TruthSegment[]; body: { scene: Scene; startSec: number }[]; creditsStartSec: number };

export async function makeSyntheticSeason(dir: string, opts: SyntheticSeasonOptions = {}): Promise<SyntheticSeason> {
  const plans = plan(opts);
  const size = { width: even(opts.width ?? 320), height: even(opts.height ?? 180) };
  await mkdir(dir, { recursive: true });
  const font = fontFile();
  const files = plans.map((_, i) => path.join(dir, `episode-${String(i + 1).padStart(2, "0")}.mp4`));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < plans.length; i = next++) await render(plans[i]!, files[i]!, size, font);
  };
  await Promise.all(Array.from({ length: Math.min(plans.length, availableParallelism()) }, worker));
  return { files, truth: plans.map((p) => p.truth) };
}

/** The truth makeSyntheticSeason would produce with these options, without making anything (pure). */
export function syntheticSeasonTruth(opts: SyntheticSeasonOptions = {}): TruthSegment[][] {
  return plan(opts).map((p) => p.truth);
}

function plan(opts: SyntheticSeasonOptions): EpisodePlan[] {
  const episodes = opts.episodes ?? 4;
  if (!(Number.isInteger(episodes) && episodes >= 1 && episodes <= 50)) throw new RangeError("episodes: 1 to 50");
  return planSeason(episodes, opts.seed ?? 1, Math.max(MIN_DURATION_SEC, opts.durationSec ?? 90));
}

/** The plan of every episode: pure and deterministic for (episodes, seed, duration). */
function planSeason(episodes: number, seed: number, durationSec: number): EpisodePlan[] {
  const rand = mulberry32(seed);
  const long = durationSec >= 300;
  const headSec = durationSec / 3;
  const introSec = frames(long ? 12 + rand() * 8 : 12 + rand() * 2);
  const intro: Scene = {
    picture: { kind: "title", text: `THE SYNTHETIC SHOW ${seed}`, color: pick(rand, ["0x203070", "0x602030", "0x206040"]) },
    sound: { voices: [voice(rand, 0.3), voice(rand, 0.15)], noise: { color: "pink", seed: int(rand, 1, 1e6), amp: 0.04 } },
    label: "intro",
    lengthSec: introSec,
  };
  const creditsSound: Sound = { voices: [voice(rand, 0.3), voice(rand, 0.12)], noise: { color: "white", seed: int(rand, 1, 1e6), amp: 0.03 } };
  const plans: EpisodePlan[] = [];
  for (let e = 0; e < episodes; e++) {
    const parts: Part[] = [];
    const truth: TruthSegment[] = [];
    let t = 0;
    const add = (scene: Scene, fromSec = 0, lengthSec = scene.lengthSec) => {
      parts.push({ scene, fromSec, lengthSec });
      t += lengthSec;
    };
    const previous = plans[e - 1];
    const recapSec = previous ? frames(long ? 20 + rand() * 20 : 8 + rand() * 1) : 0;
    // The intro ends within the head (the first third), a couple of seconds before its end.
    const room = headSec - 2 - introSec - recapSec;
    const coldSec = rand() < 0.3 ? 0 : frames(Math.min(room, long ? 20 + rand() * 40 : 2 + rand() * 2));
    if (coldSec >= 1) add(bodyScene(rand, `E${e + 1} cold open`, coldSec, false));
    if (previous) {
      const clip = recapClip(rand, previous, recapSec, headSec);
      const start = t;
      add(clip.scene, clip.fromSec, recapSec);
      truth.push({ kind: "recap", startSec: round(start), endSec: round(t) });
    }
    const introStart = t;
    add(intro);
    truth.push({ kind: "intro", startSec: round(introStart), endSec: round(t) });
    const creditsSec = frames(long ? 30 + rand() * 30 : 10 + rand() * 3);
    const creditsStart = frames(durationSec - creditsSec);
    const body: EpisodePlan["body"] = [];
    let night = false;
    while (t < creditsStart - 0.01) {
      const left = creditsStart - t;
      let len = frames(long ? 25 + rand() * 45 : 9 + rand() * 8);
      if (left - len < (long ? 20 : 6)) len = frames(left);
      const dim: boolean = !night && body.length > 0 && left > 3 * len && rand() < 0.4;
      night ||= dim;
      const scene = bodyScene(rand, `E${e + 1} scene ${body.length + 1}`, len, dim);
      body.push({ scene, startSec: t });
      add(scene);
    }
    const credits: Scene = { picture: { kind: "credits", lines: creditLines(rand, e) }, sound: creditsSound, label: "credits", lengthSec: frames(durationSec - t) };
    const creditsAt = t;
    add(credits);
    truth.push({ kind: "credits", startSec: round(creditsAt), endSec: round(t) });
    plans.push({ parts, truth, body, creditsStartSec: creditsAt });
  }
  return plans;
}

/** A clip of the previous episode's body that lies after its head (where its analysis keeps a fingerprint). */
function recapClip(rand: () => number, previous: EpisodePlan, lengthSec: number, headSec: number): Part {
  const fits = previous.body.filter((b) => b.scene.picture.kind !== "night" && Math.min(b.startSec + b.scene.lengthSec, previous.creditsStartSec) - Math.max(b.startSec, headSec + 1) >= lengthSec + 1);
  const choice = fits.length > 0 ? fits[Math.floor(rand() * fits.length)]! : previous.body[previous.body.length - 1]!;
  const earliest = Math.max(0, headSec + 1 - choice.startSec);
  const latest = Math.max(earliest, choice.scene.lengthSec - lengthSec - 0.5);
  return { scene: choice.scene, fromSec: frames(earliest + rand() * (latest - earliest)), lengthSec };
}

function bodyScene(rand: () => number, label: string, lengthSec: number, dim: boolean): Scene {
  const pictures: Picture[] = [
    { kind: "testsrc2" },
    { kind: "mandelbrot", scale: 1 + rand() * 3 },
    { kind: "cellauto", rule: pick(rand, [18, 30, 90, 110, 150]), seed: int(rand, 1, 1e6) },
    { kind: "life", seed: int(rand, 1, 1e6), color: pick(rand, ["#C83232", "#32C832", "#3232C8", "#C8C832"]) },
    { kind: "color", color: pick(rand, ["0x8a4f2a", "0x2a6f8a", "0x6a8a2a", "0x7a2a8a"]), hueSpeed: 20 + rand() * 60 },
  ];
  const picture: Picture = dim ? { kind: "night", color: pick(rand, ["0x101018", "0x0c100c", "0x140c0c"]) } : pictures[Math.floor(rand() * pictures.length)]!;
  const noise: Noise = { color: pick(rand, ["white", "pink", "brown"] as const), seed: int(rand, 1, 1e6), amp: 0.03 + rand() * 0.08 };
  return { picture, sound: { voices: [voice(rand, 0.25), voice(rand, 0.12)], noise }, label, lengthSec };
}

function voice(rand: () => number, amp: number): Voice {
  return {
    base: round(110 + rand() * 330),
    rate: round(1.5 + rand() * 5),
    a: round(1 + rand() * 7),
    b: round(2 + rand() * 9),
    c: round(0.3 + rand() * 2.5),
    range: int(rand, 7, 24),
    decay: round(1 + rand() * 5),
    amp,
  };
}

function creditLines(rand: () => number, episode: number): string[] {
  const roles = ["Directed by", "Written by", "Produced by", "Music by", "Edited by", "Camera", "Sound", "Cast"];
  const names = ["Ada Byron", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson", "Margaret Hamilton", "Donald Knuth"];
  return roles.map((r) => `${r}  ${names[(episode + int(rand, 0, names.length - 1)) % names.length]}`);
}

async function render(plan: EpisodePlan, file: string, size: { width: number; height: number }, font: string | null): Promise<void> {
  const chains: string[] = [];
  plan.parts.forEach((part, i) => {
    chains.push(`${pictureSource(part.scene, size, font)},trim=start=${part.fromSec}:duration=${part.lengthSec},setpts=PTS-STARTPTS,format=yuv420p[v${i}]`);
    chains.push(...soundChains(part.scene.sound, part.scene.lengthSec, i));
    chains.push(`[s${i}]atrim=start=${part.fromSec}:duration=${part.lengthSec},asetpts=PTS-STARTPTS,aformat=sample_rates=${GENERATED_RATE}:channel_layouts=mono[a${i}]`);
  });
  const pads = plan.parts.map((_, i) => `[v${i}][a${i}]`).join("");
  chains.push(`${pads}concat=n=${plan.parts.length}:v=1:a=1[video][mono]`);
  chains.push(`[mono]aresample=${SAMPLE_RATE},aformat=channel_layouts=stereo,asetnsamples=n=1024:p=0[audio]`);
  await ffmpeg([
    "-filter_complex", chains.join(";"),
    "-map", "[video]", "-map", "[audio]",
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", String(2 * FPS), "-pix_fmt", "yuv420p",
    "-c:a", "aac", "-b:a", "96k", "-ar", String(SAMPLE_RATE), "-ac", "2",
    ...BITEXACT, "-movflags", "+faststart", "-y", file,
  ]);
}

function pictureSource(scene: Scene, size: { width: number; height: number }, font: string | null): string {
  const s = `s=${size.width}x${size.height}:r=${FPS}`;
  const d = scene.lengthSec;
  const fontSize = Math.round(size.height / 12);
  const text = (t: string, extra: string) => `drawtext=${font ? `fontfile=${font}:` : ""}text='${t}':fontsize=${fontSize}:${extra}`;
  const p = scene.picture;
  const label = `,${text(scene.label, "fontcolor=white:x=8:y=8:box=1:boxcolor=black@0.5")}`;
  switch (p.kind) {
    case "testsrc2":
      return `testsrc2=${s}:d=${d}${label}`;
    case "mandelbrot":
      return `mandelbrot=${s}:start_scale=${p.scale.toFixed(3)},trim=duration=${d}${label}`;
    case "cellauto":
      return `cellauto=${s}:rule=${p.rule}:seed=${p.seed}:random_fill_ratio=0.5,trim=duration=${d}${label}`;
    case "life":
      return `life=${s}:seed=${p.seed}:ratio=0.3:mold=10:life_color=${p.color}:death_color=#202020,trim=duration=${d}${label}`;
    case "color":
      return `color=c=${p.color}:${s}:d=${d},drawbox=x='mod(t*60,iw)':y=ih/3:w=iw/6:h=ih/3:color=white@0.8:t=fill,hue=h=t*${p.hueSpeed.toFixed(1)}${label}`;
    case "night":
      return `color=c=${p.color}:${s}:d=${d},drawbox=x='mod(t*20,iw)':y=ih/2:w=iw/12:h=ih/12:color=0x303030:t=fill${label}`;
    case "title":
      return `color=c=${p.color}:${s}:d=${d},drawbox=x='mod(t*80,iw)':y=ih*3/4:w=iw/5:h=ih/20:color=white:t=fill,${text(p.text, "fontcolor=white:x=(w-text_w)/2:y=(h-text_h)/2")}`;
    case "credits": {
      // Rolls up from the bottom; white text on black, a small share of the picture.
      const step = Math.round(fontSize * 2);
      const speed = ((size.height + step * p.lines.length) / d).toFixed(2);
      const lines = p.lines.map((line, i) => text(line, `fontcolor=white:x=(w-text_w)/2:y=h-${speed}*t+${i * step}`));
      return `color=c=black:${s}:d=${d},${lines.join(",")}`;
    }
  }
}

/** The sound of a scene as pad `[s{i}]`: its voices and noise, mixed. */
function soundChains(sound: Sound, lengthSec: number, i: number): string[] {
  const n = sound.voices.length + 1;
  const chains = sound.voices.map((v, j) => `aevalsrc=exprs='${melody(v)}':s=${GENERATED_RATE}:d=${lengthSec}[s${i}v${j}]`);
  chains.push(`anoisesrc=r=${GENERATED_RATE}:c=${sound.noise.color}:seed=${sound.noise.seed}:a=${sound.noise.amp.toFixed(3)}:d=${lengthSec}[s${i}n]`);
  const inputs = sound.voices.map((_, j) => `[s${i}v${j}]`).join("") + `[s${i}n]`;
  chains.push(`${inputs}amix=inputs=${n}:normalize=0:duration=longest[s${i}]`);
  return chains;
}

function melody(v: Voice): string {
  const n = `floor(t*${v.rate})`;
  const semitones = `mod(floor(${v.a}*${n}+${v.b}*sin(${n}*${v.c})),${v.range})`;
  const f = `${v.base}*pow(2,${semitones}/12)`;
  const envelope = `exp(-${v.decay}*mod(t,${round(1 / v.rate)}))`;
  // st/ld keep the pitch in a variable: the expression is evaluated once per sample.
  return `st(0,2*PI*${f}*t);${v.amp}*${envelope}*(sin(ld(0))+0.5*sin(2*ld(0))+0.25*sin(3*ld(0)))`;
}

/** A TrueType font ffmpeg's drawtext can open by path: a known DejaVu file or what fontconfig picks for "sans". */
function fontFile(): string | null {
  const known = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/System/Library/Fonts/Supplemental/Arial.ttf"];
  const found = known.find((f) => existsSync(f)) ?? fcMatch();
  // A path with filter-graph metacharacters would need escaping: fall back to fontconfig's default.
  return found && /^[A-Za-z0-9._/+-]+$/.test(found) ? found : null;
}

function fcMatch(): string | null {
  const r = spawnSync("fc-match", ["--format=%{file}", "sans"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Seconds rounded to whole frames. */
function frames(sec: number): number {
  return Math.round(sec * FPS) / FPS;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function even(x: number): number {
  return Math.max(2, 2 * Math.round(x / 2));
}
