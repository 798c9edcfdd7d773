// Which origins this location sees failing. An isolate knows its own breaker per origin
// (lib/bindings/guard.ts: state, and the window's calls and failures); what one isolate
// sees, the others in the location learn through the Cache API (one small entry per
// pathway, written at most every few seconds by an isolate that sees the origin failing,
// kept for HEALTH_MAX_AGE_S). Only failure is shared: a mark that is not renewed expires,
// so an origin that recovers is trusted again within that time. Off the hot path: read
// and written by steering requests and multivariant manifests, never by segments.
import { dependencyHealth } from "../../../lib/bindings/guard.ts";
import type { MediaOrigin } from "../../../lib/media-origins/origins.ts";

/** A failing mark is kept this long in the location's cache unless renewed. */
export const HEALTH_MAX_AGE_S = 30;
/** An isolate renews its mark at most this often. */
const PUBLISH_EVERY_MS = 5_000;
/** Failing: the breaker is not closed, or at least this many failures at this rate in its window. */
export const MIN_FAILURES = 3;
export const FAILURE_RATE = 0.2;

export type OriginView = { state: string; calls: number; failed: number };

export function isFailing(view: OriginView): boolean {
  return view.state !== "closed" || (view.failed >= MIN_FAILURES && view.failed / Math.max(1, view.calls) >= FAILURE_RATE);
}

type Mark = { version: 1; pathway: string; state: string; calls: number; failed: number; at: number };

function parseMark(text: string, pathway: string, now: number): Mark | null {
  try {
    const mark = JSON.parse(text) as Partial<Mark>;
    const fresh = typeof mark.at === "number" && mark.at <= now + 1000 && now - mark.at < HEALTH_MAX_AGE_S * 1000;
    return mark.version === 1 && mark.pathway === pathway && fresh ? (mark as Mark) : null;
  } catch {
    return null;
  }
}

export class OriginHealth {
  readonly #published = new Map<string, number>();

  /**
   * The pathways failing as this isolate sees them or as another isolate of the location
   * marked them lately; renews this isolate's marks in the background.
   */
  async failing(origins: readonly MediaOrigin[], cache: Cache, cacheOrigin: string, waitUntil: (p: Promise<unknown>) => void): Promise<Set<string>> {
    const now = Date.now();
    const key = (pathway: string) => `${cacheOrigin}/__origin-health/${pathway}`;
    const views = await Promise.all(
      origins.map(async (origin) => {
        const own = dependencyHealth(origin.dependency);
        if (isFailing(own)) {
          this.#publish(cache, key(origin.pathway), origin.pathway, own, now, waitUntil);
          return { pathway: origin.pathway, failing: true };
        }
        const cached = await cache.match(key(origin.pathway));
        const mark = cached ? parseMark(await cached.text(), origin.pathway, now) : null;
        return { pathway: origin.pathway, failing: mark !== null };
      }),
    );
    return new Set(views.filter((v) => v.failing).map((v) => v.pathway));
  }

  #publish(cache: Cache, key: string, pathway: string, view: OriginView, now: number, waitUntil: (p: Promise<unknown>) => void): void {
    if (now - (this.#published.get(pathway) ?? 0) < PUBLISH_EVERY_MS) return;
    this.#published.set(pathway, now);
    const mark: Mark = { version: 1, pathway, state: view.state, calls: view.calls, failed: view.failed, at: now };
    waitUntil(cache.put(key, new Response(JSON.stringify(mark), { headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${HEALTH_MAX_AGE_S}` } })));
  }
}
