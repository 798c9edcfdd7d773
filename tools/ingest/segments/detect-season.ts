// Finds each episode's recap, intro and credits from the stored analyses of a season
// (analyze.ts), without the source files (pure).
//
// Intro: the sound an episode's head shares with the heads of the other episodes. Every
// pair of heads is matched (match.ts); each episode's shared spans are grouped where they
// overlap, and the group shared with the most other episodes wins (a recap or a cold open
// replayed in one later episode is shared with one, the intro with all). Its bounds are the
// medians of the group's; its confidence grows with the share of episodes that agree and
// with how well they match.
//
// Recap: what comes before an episode's intro and matches the previous episode's content,
// not its intro or credits. Only the previous episode's head and tail are fingerprinted, so
// a recap is found only when the scenes it replays lie there: for a short episode (under
// 15 minutes: head and tail then cover all of it) always; for a 45-minute one, scenes from
// its first 15 and last 10 minutes. Recapped scenes from further back (two episodes ago)
// are not looked for. Its clips, a few seconds apart, make one recap.
//
// Credits: the picture (a mostly dark stretch that runs to the end: white text on black)
// and the sound (a span at the end shared with other episodes' tails: the end-credits
// music). Both agreeing is a confident answer; one alone is a weaker one; a film, or a
// lone episode, has only the picture.
//
// Fingerprints of different algorithms (a season analysed partly without chromaprint) are
// never compared: such episodes simply have fewer partners, and lower confidences.
import { MIN_VISIBLE_CONFIDENCE, SKIP_LIMITS, decodeFingerprint, episodeAnalysisSchema, skipSegmentSetSchema, type EpisodeAnalysis, type SkipSegment, type SkipSegmentKind } from "../../../lib/skip-segments.ts";
import { findSharedSpans, indexItems, type IndexedItems } from "./match.ts";
import { FINGERPRINT_PROFILES, type FingerprintProfile } from "./profiles.ts";

/** Shortest shared sound taken for an intro or for credits music. */
export const MIN_SHARED_SEC = 8;
/** Shortest recap clip. */
export const MIN_RECAP_CLIP_SEC = 5;
/** Clips of one recap are at most this far apart. */
const RECAP_GAP_SEC = 4;
/** A recap that ends this close before the intro runs up to it (no sliver to sit through). */
const RECAP_TO_INTRO_SEC = 1.5;
/** Shortest dark ending taken for credits. */
export const MIN_DARK_CREDITS_SEC = 6;
/** A dark span "reaches the end" when it ends this close to it. */
const END_SLACK_SEC = 1;
/** Dark spans this close together with no cut between them are one (a dense screenful of credits, a bright card). */
const DARK_JOIN_SEC = 3;
/** Credits music must end this close to the end of the episode. */
const CREDITS_MUSIC_END_SEC = 30;
/** Music starting this little before the dark still agrees with it; this close, they name the same cut. */
const CREDITS_AGREE_SEC = 3;
const CREDITS_SAME_CUT_SEC = 0.5;
/** Unlike items a span may bridge. */
const MAX_GAP_SEC = 1.5;

type Span = { startSec: number; endSec: number };

/** A fingerprint ready to match: items indexed, with where and how it lies in time. */
type Print = { index: IndexedItems; startSec: number; profile: FingerprintProfile; algorithm: string };

/** One span of sound two fingerprints share, in seconds on both sides. */
type Shared = { a: Span; b: Span; density: number };

/** A span of one episode found in another episode (`partner`). */
type Candidate = Span & { partner: number; density: number };

export function detectSeason(analyses: EpisodeAnalysis[]): SkipSegment[][] {
  // Stored analyses come back from the server: checked again before their items are trusted.
  const episodes = analyses.map((a) => episodeAnalysisSchema.parse(a));
  if (episodes.length === 0) return [];
  const heads = episodes.map((e) => print(e, "head"));
  const tails = episodes.map((e) => print(e, "tail"));
  const intros = detectIntros(heads);
  const credits = episodes.map((e, k) => detectCredits(e, k, tails));
  const recaps = episodes.map((_, k) => (k > 0 ? detectRecap(k, heads, tails, intros, credits) : null));
  return episodes.map((e, k) => finish([recaps[k] ?? null, intros[k] ?? null, credits[k] ?? null], e.durationSec));
}

/** A film (or an episode alone): credits from the picture only. */
export function detectFilm(analysis: EpisodeAnalysis): SkipSegment[] {
  const checked = episodeAnalysisSchema.parse(analysis);
  return finish([pictureCredits(checked)], checked.durationSec);
}

function print(e: EpisodeAnalysis, part: "head" | "tail"): Print {
  const profile = FINGERPRINT_PROFILES[e.fingerprint.algorithm];
  return { index: indexItems(decodeFingerprint(e.fingerprint[part].data)), startSec: e.fingerprint[part].startSec, profile, algorithm: e.fingerprint.algorithm };
}

/** The spans x and y share, at least `minSec` long, in seconds. */
function shared(x: Print, y: Print, minSec: number): Shared[] {
  if (x.algorithm !== y.algorithm) return [];
  const p = x.profile;
  const minSpanItems = Math.max(1, Math.ceil((minSec - p.windowSec - p.endPadSec + p.startPadSec) / p.itemSec));
  const spans = findSharedSpans(x.index, y.index, {
    maxBitErrors: p.maxBitErrors,
    minSpanItems,
    maxGapItems: Math.round(MAX_GAP_SEC / p.itemSec),
  });
  return spans.map((s) => ({ a: seconds(x, s.aStart, s.aEnd), b: seconds(y, s.aStart + s.offset, s.aEnd + s.offset), density: s.density }));
}

/**
 * Items first..last of a fingerprint as the sound they stand for (see FingerprintProfile).
 * A run that starts at the fingerprint's first item (ends at its last) may continue beyond
 * it, so no pad is taken off there.
 */
function seconds(x: Print, first: number, last: number): Span {
  const p = x.profile;
  const lastItem = x.index.items.length - 1;
  return {
    startSec: Math.max(0, x.startSec + first * p.itemSec + (first <= 0 ? 0 : p.startPadSec)),
    endSec: x.startSec + last * p.itemSec + p.windowSec + (last >= lastItem ? 0 : p.endPadSec),
  };
}

type Found = Span & { confidence: number; kind: SkipSegmentKind };

function detectIntros(heads: Print[]): (Found | null)[] {
  const n = heads.length;
  const candidates: Candidate[][] = heads.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      for (const s of shared(heads[i]!, heads[j]!, MIN_SHARED_SEC)) {
        candidates[i]!.push({ ...s.a, partner: j, density: s.density });
        candidates[j]!.push({ ...s.b, partner: i, density: s.density });
      }
    }
  }
  return candidates.map((list) => {
    const best = bestGroup(list);
    if (!best) return null;
    return { kind: "intro", ...best.span, confidence: agreement(best.partners, n - 1, best.density) };
  });
}

/**
 * Groups of overlapping candidates (each overlapping the group's first, longest one by more
 * than half of the shorter); the group with the most distinct partners wins, then the one
 * matching best. Its span is the median of its partners' (each partner's longest).
 */
function bestGroup(list: Candidate[]): { span: Span; partners: number; density: number } | null {
  const sorted = [...list].sort((x, y) => y.endSec - y.startSec - (x.endSec - x.startSec));
  const groups: Candidate[][] = [];
  for (const c of sorted) {
    const group = groups.find((g) => overlapsMostly(g[0]!, c));
    if (group) group.push(c);
    else groups.push([c]);
  }
  let best: { span: Span; partners: number; density: number; weight: number } | null = null;
  for (const group of groups) {
    const byPartner = new Map<number, Candidate>();
    for (const c of group) if (!byPartner.has(c.partner)) byPartner.set(c.partner, c);
    const members = [...byPartner.values()];
    const density = members.reduce((sum, c) => sum + c.density, 0) / members.length;
    const weight = members.reduce((sum, c) => sum + c.density * (c.endSec - c.startSec), 0);
    const partners = members.length;
    if (!best || partners > best.partners || (partners === best.partners && weight > best.weight)) {
      best = { span: { startSec: median(members.map((c) => c.startSec)), endSec: median(members.map((c) => c.endSec)) }, partners, density, weight };
    }
  }
  return best;
}

/**
 * Confidence from `agree` of `others` episodes sharing a span, matching with mean density
 * `density`: one partner in a pair of episodes gives about 0.74, all of four about 0.93,
 * one of ten about 0.41 (kept, not shown).
 */
function agreement(agree: number, others: number, density: number): number {
  if (agree <= 0 || others <= 0) return 0;
  const quality = 0.7 + 0.3 * density;
  return quality * (0.5 + (0.5 * agree) / others) * (1 - 0.5 ** (agree + 1));
}

function detectRecap(k: number, heads: Print[], tails: Print[], intros: (Found | null)[], credits: (Found | null)[]): Found | null {
  const head = heads[k]!;
  const intro = intros[k];
  const before = intro ? intro.startSec : Infinity;
  // The previous episode's own intro and credits are not content a recap replays.
  const excluded = [intros[k - 1], credits[k - 1]].filter((s): s is Found => s !== null && s !== undefined);
  const clips: (Span & { density: number })[] = [];
  for (const other of [heads[k - 1]!, tails[k - 1]!]) {
    for (const s of shared(head, other, MIN_RECAP_CLIP_SEC)) {
      if (s.a.endSec > before + END_SLACK_SEC) continue;
      if (excluded.some((x) => overlapsMostly(x, s.b))) continue;
      if (intro && overlapsMostly(intro, s.a)) continue;
      clips.push({ startSec: s.a.startSec, endSec: Math.min(s.a.endSec, before), density: s.density });
    }
  }
  if (clips.length === 0) return null;
  clips.sort((x, y) => x.startSec - y.startSec);
  // Chains of clips a few seconds apart; the one with the most matched sound wins.
  let best: { span: Span; sound: number; density: number } | null = null;
  let chain: (Span & { density: number })[] = [];
  const closeChain = () => {
    if (chain.length === 0) return;
    const sound = chain.reduce((sum, c) => sum + (c.endSec - c.startSec), 0);
    const density = chain.reduce((sum, c) => sum + c.density * (c.endSec - c.startSec), 0) / sound;
    if (!best || sound > best.sound) best = { span: { startSec: chain[0]!.startSec, endSec: Math.max(...chain.map((c) => c.endSec)) }, sound, density };
    chain = [];
  };
  for (const clip of clips) {
    const end = chain.length > 0 ? Math.max(...chain.map((c) => c.endSec)) : -Infinity;
    if (clip.startSec > end + RECAP_GAP_SEC) closeChain();
    chain.push(clip);
  }
  closeChain();
  const found = best as { span: Span; sound: number; density: number } | null;
  if (!found) return null;
  // One pair of episodes is the only witness: confident when it ends where the intro starts.
  const quality = 0.7 + 0.3 * found.density;
  const adjoins = intro !== null && intro !== undefined && intro.startSec - found.span.endSec <= RECAP_TO_INTRO_SEC;
  const placed = intro ? (adjoins ? 0.85 : 0.7) : 0.55;
  const endSec = adjoins ? intro.startSec : found.span.endSec;
  return { kind: "recap", startSec: found.span.startSec, endSec, confidence: quality * placed };
}

function detectCredits(e: EpisodeAnalysis, k: number, tails: Print[]): Found | null {
  const picture = pictureCredits(e);
  const music = creditsMusic(e, k, tails);
  if (!music) return picture;
  const musicConfidence = 0.85 * agreement(music.partners, tails.length - 1, music.density);
  if (!picture) return { kind: "credits", startSec: music.span.startSec, endSec: endOfCredits(music.span.endSec, e.durationSec), confidence: musicConfidence };
  // Music that starts inside the dark stretch marks the credits after a dark last scene
  // (or a fade): both say the credits run from there. Music that starts before the dark
  // began over the last scene, which is still story: the credits start with the dark, and
  // the two agree only if the music began just before. Within half a second they name the
  // same cut, and the picture's is exact to a frame.
  const gap = music.span.startSec - picture.startSec;
  if (Math.abs(gap) <= CREDITS_SAME_CUT_SEC || gap > 0) {
    return { kind: "credits", startSec: gap > CREDITS_SAME_CUT_SEC ? music.span.startSec : picture.startSec, endSec: picture.endSec, confidence: Math.min(1, 0.75 + 0.25 * musicConfidence) };
  }
  const confidence = -gap <= CREDITS_AGREE_SEC ? Math.min(1, 0.75 + 0.25 * musicConfidence) : 0.9 * Math.max(picture.confidence, musicConfidence);
  return { kind: "credits", startSec: picture.startSec, endSec: picture.endSec, confidence };
}

/** Sound shared with other episodes' tails that ends near the end of this one. */
function creditsMusic(e: EpisodeAnalysis, k: number, tails: Print[]): { span: Span; partners: number; density: number } | null {
  const list: Candidate[] = [];
  tails.forEach((other, j) => {
    if (j === k) return;
    for (const s of shared(tails[k]!, other, MIN_SHARED_SEC)) {
      if (s.a.endSec >= e.durationSec - CREDITS_MUSIC_END_SEC) list.push({ ...s.a, partner: j, density: s.density });
    }
  });
  return bestGroup(list);
}

/** The sound's end is the episode's when only a few seconds (silence, a logo) follow it. */
function endOfCredits(endSec: number, durationSec: number): number {
  return durationSec - endSec <= 5 ? durationSec : endSec;
}

/**
 * Credits from the picture: the dark stretch that runs to the end (spans joined across
 * short gaps without a cut), started at a cut when one falls within a second before it.
 * Confidence by length: a short dark ending may be a fade, a long one is credits.
 */
export function pictureCredits(e: EpisodeAnalysis): Found | null {
  const joined: Span[] = [];
  for (const s of e.darkSpans) {
    const last = joined[joined.length - 1];
    const cutBetween = last !== undefined && e.sceneChanges.some((t) => t > last.endSec - 0.2 && t < s.startSec + 0.2);
    if (last && s.startSec - last.endSec <= DARK_JOIN_SEC && !cutBetween) last.endSec = Math.max(last.endSec, s.endSec);
    else joined.push({ ...s });
  }
  const end = joined[joined.length - 1];
  if (!end || end.endSec < e.durationSec - END_SLACK_SEC || end.endSec - end.startSec < MIN_DARK_CREDITS_SEC) return null;
  const cut = e.sceneChanges.filter((t) => t <= end.startSec && t >= end.startSec - 1).pop();
  const startSec = cut ?? end.startSec;
  const lengthSec = e.durationSec - startSec;
  return { kind: "credits", startSec, endSec: e.durationSec, confidence: 0.45 + 0.2 * Math.min(1, lengthSec / 60) };
}

/** One episode's list: in time order, overlaps resolved (earlier kinds give way), valid by the schema. */
function finish(found: (Found | null)[], durationSec: number): SkipSegment[] {
  const list = found.filter((f): f is Found => f !== null).sort((x, y) => x.startSec - y.startSec);
  const out: SkipSegment[] = [];
  for (const f of list) {
    const previous = out[out.length - 1];
    let startSec = ms(Math.max(0, f.startSec));
    const endSec = ms(Math.min(durationSec, f.endSec, SKIP_LIMITS.maxSec));
    if (previous && startSec < previous.endSec) {
      // The intro's start is the better-supported boundary: a recap gives way to it; credits give way to nothing before them.
      if (previous.kind === "recap") previous.endSec = startSec;
      else startSec = previous.endSec;
    }
    if (previous && previous.endSec - previous.startSec < SKIP_LIMITS.minSpanSec) out.pop();
    if (endSec - startSec < SKIP_LIMITS.minSpanSec) continue;
    out.push({ kind: f.kind, startSec, endSec, source: "detected", confidence: ms(Math.min(1, Math.max(0, f.confidence))) });
  }
  return skipSegmentSetSchema.parse(out);
}

/** Whether a segment of this confidence would be shown to viewers. */
export function isVisible(s: SkipSegment): boolean {
  return s.confidence >= MIN_VISIBLE_CONFIDENCE;
}

function overlapsMostly(x: Span, y: Span): boolean {
  const overlap = Math.min(x.endSec, y.endSec) - Math.max(x.startSec, y.startSec);
  return overlap > 0.5 * Math.min(x.endSec - x.startSec, y.endSec - y.startSec);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function ms(sec: number): number {
  return Math.round(sec * 1000) / 1000;
}
