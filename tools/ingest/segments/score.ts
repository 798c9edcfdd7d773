// Scores detected skip segments against the truth of a synthetic season (pure): precision
// and recall of boundaries within a tolerance, per kind.
//
// A boundary is a segment's start or its end. A detected boundary is a true positive when
// a truth boundary of the same kind and the same side (start or end) lies within the
// tolerance and is not already taken; precision is true positives over detected
// boundaries, recall over truth boundaries.
import { skipSegmentKinds, type SkipSegment, type SkipSegmentKind } from "../../../lib/skip-segments.ts";

export type TruthSpan = { kind: SkipSegmentKind; startSec: number; endSec: number };

export type KindScore = {
  kind: SkipSegmentKind;
  truth: number;
  detected: number;
  truePositives: number;
  /** Signed detected - truth of the true positives, seconds: all, starts, ends. */
  errors: number[];
  startErrors: number[];
  endErrors: number[];
};

export const BOUNDARY_TOLERANCE_SEC = 1;

export function scoreEpisode(truth: TruthSpan[], detected: Pick<SkipSegment, "kind" | "startSec" | "endSec">[], toleranceSec = BOUNDARY_TOLERANCE_SEC): KindScore[] {
  return skipSegmentKinds.map((kind) => {
    const score: KindScore = { kind, truth: 0, detected: 0, truePositives: 0, errors: [], startErrors: [], endErrors: [] };
    for (const side of ["startSec", "endSec"] as const) {
      const t = truth.filter((s) => s.kind === kind).map((s) => s[side]);
      const d = detected.filter((s) => s.kind === kind).map((s) => s[side]);
      score.truth += t.length;
      score.detected += d.length;
      const taken = new Set<number>();
      for (const x of d) {
        let best = -1;
        for (let i = 0; i < t.length; i++) {
          if (taken.has(i) || Math.abs(t[i]! - x) > toleranceSec) continue;
          if (best < 0 || Math.abs(t[i]! - x) < Math.abs(t[best]! - x)) best = i;
        }
        if (best >= 0) {
          taken.add(best);
          score.truePositives++;
          score.errors.push(x - t[best]!);
          (side === "startSec" ? score.startErrors : score.endErrors).push(x - t[best]!);
        }
      }
    }
    return score;
  });
}

/** Scores of many episodes added up, per kind. */
export function sumScores(scores: KindScore[][]): KindScore[] {
  return skipSegmentKinds.map((kind) => {
    const all = scores.flat().filter((s) => s.kind === kind);
    return {
      kind,
      truth: all.reduce((a, s) => a + s.truth, 0),
      detected: all.reduce((a, s) => a + s.detected, 0),
      truePositives: all.reduce((a, s) => a + s.truePositives, 0),
      errors: all.flatMap((s) => s.errors),
      startErrors: all.flatMap((s) => s.startErrors),
      endErrors: all.flatMap((s) => s.endErrors),
    };
  });
}

export function precision(s: KindScore): number {
  return s.detected === 0 ? 1 : s.truePositives / s.detected;
}

export function recall(s: KindScore): number {
  return s.truth === 0 ? 1 : s.truePositives / s.truth;
}
