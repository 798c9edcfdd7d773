// Fault injection for resilience testing: error rates and added latency per kind of
// binding, from the CHAOS var (e.g. "d1=0.1,r2=0.05,do=0.1,queue=0.1,latency=50ms").
// Honoured only where ENVIRONMENT is local, test or staging; production builds define
// __MARQUEE_CHAOS__ as false (tools/build.ts, tools/deploy.ts), which removes this code
// path from the bundle altogether, and `npm run build` fails if a production bundle still
// contains the fault message.
import { seededRandom } from "../random.ts";

/** The kinds of dependency a Worker calls through its bindings. */
export const dependencyKinds = ["d1", "r2", "do", "queue", "cache", "service"] as const;
export type DependencyKind = (typeof dependencyKinds)[number];

export type ChaosConfig = {
  /** The spec as given, for the health check and logs. */
  spec: string;
  /** Probability in [0, 1] that a call of each kind fails. */
  rates: Record<DependencyKind, number>;
  /** Milliseconds added before every call of each kind. */
  latencyMs: Record<DependencyKind, number>;
  /**
   * Rates for one dependency by the guard's name for it ("r2:MEDIA"), instead of its
   * kind's, from `afterMs` after that dependency's first call in this isolate on: e.g.
   * `r2:MEDIA=1@10s`, the primary bucket gone 10 s into playback (docs/media-origin.md).
   */
  dependencies: Map<string, { rate: number; afterMs: number }>;
  /** When each of `dependencies` was first called (filled in by the guard). */
  firstCallAt: Map<string, number>;
  random: () => number;
};

declare const __MARQUEE_CHAOS__: boolean | undefined;

/** False only in builds made with `--define __MARQUEE_CHAOS__:false` (production). */
export const chaosBuild: boolean = typeof __MARQUEE_CHAOS__ === "undefined" ? true : __MARQUEE_CHAOS__;

const CHAOS_ENVIRONMENTS = new Set(["local", "test", "staging"]);

/**
 * The message of every injected fault; `npm run build` checks production bundles lack it
 * (there the constant folds to "", so not even the string is left).
 */
export const CHAOS_MARK = typeof __MARQUEE_CHAOS__ !== "undefined" && !__MARQUEE_CHAOS__ ? "" : "chaos: injected";

export class ChaosSpecError extends Error {}


function parseMs(value: string, item: string, what = "latency", maxMs = 30_000): number {
  const match = /^(\d{1,7}(?:\.\d{1,3})?)(ms|s)?$/.exec(value);
  if (!match) throw new ChaosSpecError(`"${item}": ${what} must look like 50ms or 0.2s`);
  const n = Number(match[1]) * (match[2] === "s" ? 1000 : 1);
  if (n > maxMs) throw new ChaosSpecError(`"${item}": ${what} above ${maxMs / 1000}s`);
  return n;
}

function parseRate(value: string, item: string): number {
  const rate = Number(value);
  if (value === "" || !Number.isFinite(rate) || rate < 0 || rate > 1) throw new ChaosSpecError(`"${item}": a rate is a number from 0 to 1`);
  return rate;
}

/**
 * Parses a CHAOS spec: comma-separated `kind=rate` (rate in [0, 1]), `latency=50ms` for
 * every kind, `kind.latency=20ms` for one, and `seed=N` for a repeatable run.
 */
export function parseChaos(spec: string): ChaosConfig | null {
  const trimmed = spec.trim();
  if (trimmed === "" || trimmed === "off") return null;
  const rates = Object.fromEntries(dependencyKinds.map((k) => [k, 0])) as Record<DependencyKind, number>;
  const latencyMs = Object.fromEntries(dependencyKinds.map((k) => [k, 0])) as Record<DependencyKind, number>;
  const isKind = (k: string): k is DependencyKind => (dependencyKinds as readonly string[]).includes(k);
  const dependencies = new Map<string, { rate: number; afterMs: number }>();
  let seed: number | undefined;
  for (const item of trimmed.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [key, value, extra] = item.split("=").map((s) => s.trim());
    if (!key || value === undefined || extra !== undefined) throw new ChaosSpecError(`"${item}": expected name=value`);
    if (key === "latency") {
      const ms = parseMs(value, item);
      for (const k of dependencyKinds) latencyMs[k] = ms;
    } else if (key.endsWith(".latency") && isKind(key.slice(0, -".latency".length))) {
      latencyMs[key.slice(0, -".latency".length) as DependencyKind] = parseMs(value, item);
    } else if (key === "seed") {
      if (!/^\d+$/.test(value)) throw new ChaosSpecError(`"${item}": seed must be a whole number`);
      seed = Number(value);
    } else if (isKind(key)) {
      rates[key] = parseRate(value, item);
    } else if (/^[a-z0-9]{2,8}:[A-Za-z0-9_]{1,64}$/.test(key) && isKind(key.slice(0, key.indexOf(":")))) {
      const at = value.indexOf("@");
      dependencies.set(key, { rate: parseRate(at < 0 ? value : value.slice(0, at), item), afterMs: at < 0 ? 0 : parseMs(value.slice(at + 1), item, "delay", 3_600_000) });
    } else {
      throw new ChaosSpecError(`"${item}": unknown name (use ${dependencyKinds.join(", ")}, latency, <kind>.latency, <kind>:<binding> or seed)`);
    }
  }
  return { spec: trimmed, rates, latencyMs, dependencies, firstCallAt: new Map(), random: seed === undefined ? Math.random : seededRandom(seed) };
}

export type ChaosEnv = { CHAOS?: string; ENVIRONMENT?: string };

export type ChaosDecision = { config: ChaosConfig | null; refused?: string };

/**
 * The chaos configuration a Worker runs with: null unless this is a chaos build, the
 * environment is one where faults are allowed, and CHAOS is set. A spec that cannot be
 * parsed, or CHAOS in an environment that refuses it, leaves faults off and says why.
 */
export function chaosFor(env: ChaosEnv): ChaosDecision {
  const spec = env.CHAOS ?? "";
  if (spec.trim() === "") return { config: null };
  if (!chaosBuild) return { config: null, refused: "this build has no fault injection (production)" };
  if (!CHAOS_ENVIRONMENTS.has(env.ENVIRONMENT ?? "")) {
    return { config: null, refused: `CHAOS is honoured only where ENVIRONMENT is local, test or staging, not "${env.ENVIRONMENT ?? ""}"` };
  }
  try {
    return { config: parseChaos(spec) };
  } catch (err) {
    return { config: null, refused: `CHAOS="${spec}" is not valid: ${(err as Error).message}` };
  }
}

export { seededRandom };
