// The operator's steering policy as this isolate knows it: read from every origin at once
// (the api writes it to each, lib/media-origins/steering-policy.ts) and the newest copy
// kept, refreshed in the background every POLICY_REFRESH_MS. These reads go through the guard
// like any other, so they are also what lets a failing origin's breaker try it again
// (half-open) while players are steered away from it and send it nothing.
import type { MediaOrigin } from "../../../lib/media-origins/origins.ts";
import { POLICY_REFRESH_MS as REFRESH_MS, readNewestPolicy, type SteeringPolicy, type StoredSteeringPolicy } from "../../../lib/media-origins/steering-policy.ts";

/** The first read of an isolate waits at most this long; after that it never waits. */
const FIRST_READ_MS = 1_000;

export class PolicyStore {
  #known: StoredSteeringPolicy | null = null;
  #readAt = -Infinity;
  #reading: Promise<void> | null = null;

  async get(origins: readonly MediaOrigin[], waitUntil: (p: Promise<unknown>) => void): Promise<SteeringPolicy | null> {
    if (Date.now() - this.#readAt >= REFRESH_MS && !this.#reading) {
      const first = this.#readAt === -Infinity;
      this.#readAt = Date.now();
      this.#reading = this.#read(origins).finally(() => (this.#reading = null));
      waitUntil(this.#reading);
      if (first) await Promise.race([this.#reading, new Promise((resolve) => setTimeout(resolve, FIRST_READ_MS))]);
    }
    return this.#known?.policy ?? null;
  }

  async #read(origins: readonly MediaOrigin[]): Promise<void> {
    const newest = await readNewestPolicy(origins);
    // No origin answered: keep what was known.
    if (newest !== undefined) this.#known = newest;
  }
}
