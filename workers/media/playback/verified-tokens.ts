// Remembers tokens this isolate has already verified, so the dozens of segment requests of
// one stream cost one HMAC check, not one each. Expiry is still checked on every request.
import type { PlaybackClaims, VerifyResult } from "../../../lib/playback-token.ts";

const MAX_ENTRIES = 2000;

export class VerifiedTokens {
  readonly #claims = new Map<string, PlaybackClaims>();

  /** A verdict for a token verified before under these keys, or undefined to verify it now. */
  get(keySpec: string, token: string, nowSeconds: number): VerifyResult | undefined {
    const claims = this.#claims.get(`${keySpec}\n${token}`);
    if (!claims) return undefined;
    return claims.expiresAt > nowSeconds ? { ok: true, claims } : { ok: false, reason: "expired" };
  }

  /** Keyed by the key configuration too: removing a key must stop its tokens at once. */
  remember(keySpec: string, token: string, claims: PlaybackClaims): void {
    const key = `${keySpec}\n${token}`;
    if (this.#claims.has(key)) return;
    if (this.#claims.size >= MAX_ENTRIES) {
      const oldest = this.#claims.keys().next().value;
      if (oldest !== undefined) this.#claims.delete(oldest);
    }
    this.#claims.set(key, claims);
  }
}
