// The pathways media is served on: the primary R2 bucket (`MEDIA`, pathway "p", URLs
// `/p/{token}/…`) and the replicas named by MEDIA_REPLICAS, each a URL prefix of its own
// (`/p2/{token}/…`) with the same token rules. Both Workers read the one spec: the api to
// copy an asset to every replica when it is published, the media Worker to serve and steer.
// docs/media-origin.md.
//
//   MEDIA_REPLICAS = "p2=r2:MEDIA_REPLICA"                                  a second R2 bucket
//   MEDIA_REPLICAS = "p2=r2:MEDIA_REPLICA,p3=s3:https://s3.eu-central-1.amazonaws.com/marquee@eu-central-1"
//
// An S3-compatible origin's keys are the secrets S3_P3_ACCESS_KEY_ID and S3_P3_SECRET_ACCESS_KEY.

export const PRIMARY_PATHWAY = "p";
/** The primary's bucket binding. */
export const PRIMARY_BINDING = "MEDIA";
/** A pathway id: the URL prefix, and the PATHWAY-ID / serviceLocation in manifests. */
export const PATHWAY_ID = /^p[2-9]?$/;
/** At most this many pathways, the primary included (p, p2 … p9). */
export const MAX_PATHWAYS = 9;

export type OriginSpec =
  | { kind: "r2"; binding: string }
  /** Path-style S3 URLs: `{endpoint}/{bucket}/{key}`, signed with SigV4 for `region`. */
  | { kind: "s3"; endpoint: string; bucket: string; region: string };

export type Pathway = { id: string; origin: OriginSpec };

export class PathwaySpecError extends Error {}

const BINDING = /^[A-Z][A-Z0-9_]{0,63}$/;
const REGION = /^[a-z0-9-]{1,32}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,62}$/;

function originOf(id: string, value: string): OriginSpec {
  if (value.startsWith("r2:")) {
    const binding = value.slice(3);
    if (!BINDING.test(binding) || binding === PRIMARY_BINDING) throw new PathwaySpecError(`${id}: "${binding}" is not an R2 binding name other than ${PRIMARY_BINDING}`);
    return { kind: "r2", binding };
  }
  if (value.startsWith("s3:")) {
    const at = value.lastIndexOf("@");
    if (at < 0) throw new PathwaySpecError(`${id}: an S3 origin is s3:https://host/bucket@region`);
    const region = value.slice(at + 1);
    let url: URL;
    try {
      url = new URL(value.slice(3, at));
    } catch {
      throw new PathwaySpecError(`${id}: "${value.slice(3, at)}" is not a URL`);
    }
    const bucket = url.pathname.replace(/^\/|\/$/g, "");
    if (url.protocol !== "https:" || url.search || url.hash || url.username) throw new PathwaySpecError(`${id}: an S3 endpoint is a plain https URL`);
    if (!BUCKET.test(bucket)) throw new PathwaySpecError(`${id}: "${bucket}" is not an S3 bucket name (the URL's path)`);
    if (!REGION.test(region)) throw new PathwaySpecError(`${id}: "${region}" is not a region`);
    return { kind: "s3", endpoint: url.origin, bucket, region };
  }
  throw new PathwaySpecError(`${id}: an origin is r2:BINDING or s3:https://host/bucket@region`);
}

/**
 * Every pathway, the primary first, from MEDIA_REPLICAS. Strict: an id other than p2 … p9,
 * one named twice, a binding named twice or an origin that cannot be read is an error, so
 * a deployment with a mistyped replica fails its first request rather than serving less.
 */
export function parsePathways(spec: string | undefined): Pathway[] {
  const pathways: Pathway[] = [{ id: PRIMARY_PATHWAY, origin: { kind: "r2", binding: PRIMARY_BINDING } }];
  const text = (spec ?? "").trim();
  if (text.length > 2048) throw new PathwaySpecError("MEDIA_REPLICAS is longer than 2048 characters");
  if (text === "") return pathways;
  for (const item of text.split(",")) {
    const eq = item.indexOf("=");
    const id = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (eq < 0 || !PATHWAY_ID.test(id) || id === PRIMARY_PATHWAY) throw new PathwaySpecError(`"${item.trim()}": expected p2=… to p9=…`);
    if (pathways.some((p) => p.id === id)) throw new PathwaySpecError(`${id} is named twice`);
    const origin = originOf(id, value);
    if (origin.kind === "r2" && pathways.some((p) => p.origin.kind === "r2" && p.origin.binding === origin.binding)) throw new PathwaySpecError(`${id}: ${origin.binding} is already a pathway`);
    pathways.push({ id, origin });
  }
  if (pathways.length > MAX_PATHWAYS) throw new PathwaySpecError(`at most ${MAX_PATHWAYS} pathways`);
  return pathways;
}

/** The secrets an S3-compatible pathway signs with. */
export function s3SecretNames(id: string): { accessKeyId: string; secretAccessKey: string } {
  const up = id.toUpperCase();
  return { accessKeyId: `S3_${up}_ACCESS_KEY_ID`, secretAccessKey: `S3_${up}_SECRET_ACCESS_KEY` };
}

const bindingsBySpec = new Map<string, string[]>();

/**
 * The R2 bindings a spec's pathways use, the primary's first: what the binding guard must
 * wrap. Asked on every request (the Worker's entry point builds its guard plan with it), so
 * remembered per spec.
 */
export function r2BindingsOf(spec: string | undefined): string[] {
  const key = spec ?? "";
  let bindings = bindingsBySpec.get(key);
  if (!bindings) {
    try {
      bindings = parsePathways(spec).flatMap((p) => (p.origin.kind === "r2" ? [p.origin.binding] : []));
    } catch {
      bindings = [PRIMARY_BINDING];
    }
    if (bindingsBySpec.size < 16) bindingsBySpec.set(key, bindings);
  }
  return bindings;
}
