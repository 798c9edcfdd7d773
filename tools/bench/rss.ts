// Samples the resident memory of a set of processes while a transfer runs, to see what a response holds in memory.
import { rssBytes, type TreeProcess } from "./proc.ts";

export type RssSample = { total: number; byRole: Record<string, number> };

function sample(procs: TreeProcess[]): RssSample {
  const byRole: Record<string, number> = {};
  let total = 0;
  for (const p of procs) {
    const rss = rssBytes(p.pid);
    byRole[p.role] = (byRole[p.role] ?? 0) + rss;
    total += rss;
  }
  return { total, byRole };
}

export type RssReport = {
  before: RssSample;
  peak: RssSample;
  after: RssSample;
  samples: number;
  /** Longest gap between two samples: a busy event loop would hide a short peak. */
  maxGapMs: number;
};

/** Runs `work` while sampling every `everyMs`; the peak is taken per role and in total. */
export async function withRssSampling<T>(procs: TreeProcess[], everyMs: number, work: () => Promise<T>): Promise<{ result: T; rss: RssReport }> {
  const before = sample(procs);
  const peak: RssSample = { total: before.total, byRole: { ...before.byRole } };
  let samples = 1;
  let last = performance.now();
  let maxGapMs = 0;
  const take = () => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    const s = sample(procs);
    samples++;
    peak.total = Math.max(peak.total, s.total);
    for (const [role, bytes] of Object.entries(s.byRole)) peak.byRole[role] = Math.max(peak.byRole[role] ?? 0, bytes);
  };
  const timer = setInterval(take, everyMs);
  try {
    const result = await work();
    take();
    return { result, rss: { before, peak, after: sample(procs), samples, maxGapMs } };
  } finally {
    clearInterval(timer);
  }
}
