// One interface over every place an asset's files can live: an R2 bucket (through its
// guarded binding) or an S3-compatible store reached by `fetch`, signed with SigV4 by
// aws4fetch. Every call goes through the env's one binding guard (lib/bindings/guard.ts),
// so each origin has its own breaker ("r2:MEDIA_REPLICA", "s3:p3"), chaos applies to it,
// and its breaker state is what the steering server reads as its health.
import { AwsClient } from "aws4fetch";
import { guardOf } from "../bindings/guard.ts";
import { log } from "../log.ts";
import { parsePathways, s3SecretNames, type OriginSpec, type Pathway } from "./pathways.ts";
import { sha256Hex } from "../hex.ts";

export type ByteSpan = { offset: number; length: number };

export type PutOptions = { bytes: number; sha256: string; contentType: string };

export interface MediaOrigin {
  readonly pathway: string;
  /** The guard's name for it: its breaker and its chaos key. */
  readonly dependency: string;
  /** The object's body (or a span of it), or null when the origin has no such object. */
  get(key: string, span?: ByteSpan): Promise<ReadableStream | null>;
  text(key: string): Promise<string | null>;
  /** Writes an object, refused by the origin if the bytes do not hash to `sha256`. */
  put(key: string, body: ReadableStream | Uint8Array | string, options: PutOptions): Promise<void>;
}

/** A body of a known length, as R2 and S3 need for a streamed upload. */
function sized(body: ReadableStream | Uint8Array | string, bytes: number): ReadableStream | Uint8Array | string {
  return body instanceof ReadableStream ? body.pipeThrough(new FixedLengthStream(bytes)) : body;
}

export class R2Origin implements MediaOrigin {
  readonly pathway: string;
  readonly dependency: string;
  readonly #bucket: R2Bucket;

  /** `bucket` is the env's guarded binding: its calls are already under the guard. */
  constructor(pathway: string, binding: string, bucket: R2Bucket) {
    this.pathway = pathway;
    this.dependency = `r2:${binding}`;
    this.#bucket = bucket;
  }

  async get(key: string, span?: ByteSpan): Promise<ReadableStream | null> {
    const object = await this.#bucket.get(key, span ? { range: span } : {});
    return object ? object.body : null;
  }

  async text(key: string): Promise<string | null> {
    const object = await this.#bucket.get(key);
    return object ? object.text() : null;
  }

  async put(key: string, body: ReadableStream | Uint8Array | string, o: PutOptions): Promise<void> {
    await this.#bucket.put(key, sized(body, o.bytes), {
      httpMetadata: { contentType: o.contentType },
      customMetadata: { sha256: o.sha256 },
      sha256: o.sha256,
    });
  }
}

export class S3OriginError extends Error {}

/** Path-style S3 (AWS, and the S3 API of other stores): `{endpoint}/{bucket}/{key}`. */
export class S3Origin implements MediaOrigin {
  readonly pathway: string;
  readonly dependency: string;
  readonly #spec: Extract<OriginSpec, { kind: "s3" }>;
  readonly #client: AwsClient;
  readonly #env: object;
  readonly #fetch: (request: Request) => Promise<Response>;

  /** `fetcher`: where signed requests go (the network; a stand-in store in tests). */
  constructor(
    pathway: string,
    spec: Extract<OriginSpec, { kind: "s3" }>,
    credentials: { accessKeyId: string; secretAccessKey: string },
    env: object,
    fetcher: (request: Request) => Promise<Response> = (request) => fetch(request),
  ) {
    this.pathway = pathway;
    this.dependency = `s3:${pathway}`;
    this.#spec = spec;
    this.#env = env;
    this.#fetch = fetcher;
    this.#client = new AwsClient({ ...credentials, service: "s3", region: spec.region, retries: 0 });
  }

  async #signed(url: string, init: RequestInit): Promise<Response> {
    return this.#fetch(await this.#client.sign(url, init));
  }

  #url(key: string): string {
    return `${this.#spec.endpoint}/${this.#spec.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
  }

  #call<T>(label: string, run: () => Promise<T>): Promise<T> {
    return guardOf(this.#env).call("r2", this.dependency, label, run);
  }

  async get(key: string, span?: ByteSpan): Promise<ReadableStream | null> {
    return this.#call("get", async () => {
      const headers: Record<string, string> = span ? { Range: `bytes=${span.offset}-${span.offset + span.length - 1}` } : {};
      const res = await this.#signed(this.#url(key), { headers });
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        throw new S3OriginError(`GET ${key}: ${res.status}`);
      }
      return res.body;
    });
  }

  async text(key: string): Promise<string | null> {
    const body = await this.get(key);
    return body ? new Response(body).text() : null;
  }

  async put(key: string, body: ReadableStream | Uint8Array | string, o: PutOptions): Promise<void> {
    await this.#call("put", async () => {
      const res = await this.#signed(this.#url(key), {
        method: "PUT",
        body: sized(body, o.bytes),
        headers: {
          "Content-Type": o.contentType,
          "Content-Length": String(o.bytes),
          // The store checks the bytes against it: a corrupted copy is refused, not kept.
          "X-Amz-Content-Sha256": o.sha256,
          "X-Amz-Meta-Sha256": o.sha256,
        },
      });
      if (res.ok) {
        await res.body?.cancel();
        return;
      }
      // The store refusing the bytes for their hash is the copy's fault, not the store's:
      // said so in words the guard classifies as the request's (it never opens the breaker).
      const code = /<Code>([A-Za-z0-9]{1,64})<\/Code>/.exec((await res.text()).slice(0, 2048))?.[1] ?? "";
      const hash = code === "XAmzContentSHA256Mismatch" || code === "BadDigest";
      throw new S3OriginError(`PUT ${key}: ${res.status}${code ? ` ${code}` : ""}${hash ? " (the bytes do not match their sha256)" : ""}`);
    });
  }
}

export type MediaOrigins = {
  /** Every pathway's origin, the primary first. */
  all: MediaOrigin[];
  byPathway: Map<string, MediaOrigin>;
};

export type OriginEnv = { MEDIA_REPLICAS?: string } & object;

const built = new WeakMap<object, { spec: string; origins: MediaOrigins }>();

function originFor(pathway: Pathway, env: Record<string, unknown>): MediaOrigin {
  const { id, origin } = pathway;
  if (origin.kind === "r2") {
    const bucket = env[origin.binding] as R2Bucket | undefined;
    if (!bucket) throw new Error(`MEDIA_REPLICAS names ${id}=r2:${origin.binding}, but this Worker has no R2 binding ${origin.binding}`);
    return new R2Origin(id, origin.binding, bucket);
  }
  const names = s3SecretNames(id);
  const accessKeyId = env[names.accessKeyId];
  const secretAccessKey = env[names.secretAccessKey];
  if (typeof accessKeyId !== "string" || typeof secretAccessKey !== "string" || !accessKeyId || !secretAccessKey) {
    throw new Error(`MEDIA_REPLICAS names ${id} on S3, but the secrets ${names.accessKeyId} and ${names.secretAccessKey} are not set`);
  }
  return new S3Origin(id, origin, { accessKeyId, secretAccessKey }, env);
}

/**
 * The env's origins (its bindings as the guard wraps them), made once per env object and
 * spec. A replica that cannot be made (a spec that does not parse, a binding or secret
 * that is missing) is left out and said once in the log: the primary keeps serving.
 */
export function mediaOrigins(env: OriginEnv): MediaOrigins {
  const spec = env.MEDIA_REPLICAS ?? "";
  const known = built.get(env);
  if (known?.spec === spec) return known.origins;
  const source = env as Record<string, unknown>;
  let pathways: Pathway[];
  try {
    pathways = parsePathways(spec);
  } catch (err) {
    misconfigured(spec, `MEDIA_REPLICAS is not valid, serving from the primary alone: ${(err as Error).message}`);
    pathways = parsePathways("");
  }
  const all: MediaOrigin[] = [];
  for (const p of pathways) {
    try {
      all.push(originFor(p, source));
    } catch (err) {
      misconfigured(spec, `${(err as Error).message}; ${p.id} is left out`);
    }
  }
  const origins = { all, byPathway: new Map(all.map((o) => [o.pathway, o])) };
  built.set(env, { spec, origins });
  return origins;
}

const said = new Set<string>();
function misconfigured(spec: string, message: string): void {
  if (said.has(`${spec}|${message}`)) return;
  said.add(`${spec}|${message}`);
  log("error", { event: "config_invalid", requestId: "", message });
}


/**
 * A small object (JSON the api writes after publish: skip segments, the steering policy)
 * written to every origin at once. The primary's write must land, or this throws; a
 * replica's that fails is logged and returned, for the caller to say or to try again.
 */
export async function putEverywhere(origins: readonly MediaOrigin[], key: string, text: string, contentType = "application/json"): Promise<{ failed: string[] }> {
  const bytes = new TextEncoder().encode(text);
  const sha256 = await sha256Hex(bytes);
  const results = await Promise.allSettled(origins.map((o) => o.put(key, bytes, { bytes: bytes.byteLength, sha256, contentType })));
  if (results[0]?.status === "rejected") throw results[0].reason;
  const failed: string[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") return;
    failed.push(origins[i]!.pathway);
    log("warn", { event: "dependency_failed", requestId: "", dependency: origins[i]!.dependency, message: `${key} not written to ${origins[i]!.pathway}: ${String(r.reason).slice(0, 200)}` });
  });
  return { failed };
}
