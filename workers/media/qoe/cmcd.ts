// Reading CMCD (CTA-5004) from a media request: the `CMCD` query parameter, or the
// CMCD-Request, CMCD-Object, CMCD-Status and CMCD-Session headers. Decoded with the SVTA's
// Common Media Library (@svta/cml-cmcd, the decoder hls.js itself builds on): a
// structured-field parser that reads character by character, so nothing backtracks. Each
// header or parameter is capped at MAX_CMCD_CHARS before it is parsed. Anything malformed
// — a value that does not parse, a key of the wrong type — drops the whole record: CMCD
// is telemetry, never a reason to refuse a segment, and never half-trusted.
import { decodeCmcd } from "@svta/cml-cmcd";
import { cmcdFieldsSchema, type CmcdFields } from "../../../lib/qoe.ts";

/** Far above what a player sends (hls.js: about 150 characters a request). */
export const MAX_CMCD_CHARS = 1024;

export const CMCD_HEADERS = ["cmcd-request", "cmcd-object", "cmcd-status", "cmcd-session"] as const;

const KEPT = ["sid", "cid", "ot", "br", "bl", "mtp", "d", "rtp", "su", "bs"] as const;

/** The CMCD payloads a request carries (query first, as CTA-5004 lets a player use either), or none. */
function payloads(url: URL, headers: Headers): string[] | null {
  // The common case, a request without CMCD, costs one substring test and four header lookups.
  const query = url.search.includes("CMCD=") ? url.searchParams.get("CMCD") : null;
  const found: string[] = [];
  if (query !== null) found.push(query);
  for (const name of CMCD_HEADERS) {
    const value = headers.get(name);
    if (value !== null) found.push(value);
  }
  return found.length > 0 ? found : null;
}

/** Whether a request carries CMCD at all (before anything is parsed). */
export function hasCmcd(url: URL, headers: Headers): boolean {
  return payloads(url, headers) !== null;
}

/** The CMCD keys we keep, or null when there is none or any of it is malformed. */
export function readCmcd(url: URL, headers: Headers): CmcdFields | null {
  const found = payloads(url, headers);
  if (!found) return null;
  const merged: Record<string, unknown> = {};
  for (const payload of found) {
    if (payload.length > MAX_CMCD_CHARS) return null;
    if (payload.trim() === "") continue;
    let decoded: Record<string, unknown>;
    try {
      decoded = decodeCmcd(payload) as Record<string, unknown>;
    } catch {
      return null;
    }
    for (const key of KEPT) if (key in decoded) merged[key] = decoded[key];
  }
  // CMCD rounds these to whole numbers; a player sending 3200.5 kbit/s is off-spec, and dropped.
  const parsed = cmcdFieldsSchema.safeParse(merged);
  return parsed.success ? parsed.data : null;
}

/** FNV-1a, 32 bits: a session's stable place in [0, 1) for sampling whole sessions. */
export function sessionShare(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}
