// A small client for the api Worker's /v1/admin routes: one error type carrying the
// server's standard error body, and retries for what is worth retrying.
import type { EpisodeAnalysis, SkipSegment } from "../../lib/skip-segments.ts";
import type { RenditionIndex } from "../../lib/media-index.ts";

export class AdminApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** One replica's copy of an asset, as the publish step reports it (docs/media-origin.md). */
export type ReplicaStatus = { pathway: string; filesDone: number; filesTotal: number; bytesDone: number; complete: boolean; error?: string };

export type AssetStatus = {
  assetId: string;
  status: "pending" | "published";
  files: { path: string; bytes: number; sha256: string; uploaded: boolean }[];
  linkedTo: { titleId: string; episodeId?: string }[];
};

const RETRIES = 4;

/** Status 0: no HTTP answer at all (refused, reset, DNS). */
const UNREACHABLE = 0;

function retryable(err: unknown): boolean {
  // Network failures and 5xx (e.g. 503 from a briefly unavailable store); never 4xx.
  return !(err instanceof AdminApiError) || err.status === UNREACHABLE || err.status >= 500 || err.status === 429;
}

export class AdminApi {
  readonly base: string;
  readonly #token: string;

  constructor(base: string, token: string) {
    this.base = base.replace(/\/+$/, "");
    this.#token = token;
  }

  async request<T>(method: string, path: string, body?: { json: unknown } | { bytes: Uint8Array }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(method, path, body);
      } catch (err) {
        if (attempt >= RETRIES || !retryable(err)) throw err;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  }

  async #once<T>(method: string, path: string, body?: { json: unknown } | { bytes: Uint8Array }): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#token}` };
    let payload: BodyInit | undefined;
    if (body && "json" in body) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body) {
      headers["Content-Type"] = "application/octet-stream";
      payload = body.bytes as Uint8Array<ArrayBuffer>;
    }
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body: payload });
    } catch (err) {
      const cause = (err as Error).cause;
      throw new AdminApiError(UNREACHABLE, "UNREACHABLE", `cannot reach ${this.base}: ${cause instanceof Error ? cause.message : (err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let parsed: { error?: { code?: string; message?: string; details?: unknown } } = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not our error body (e.g. a proxy's page): report the status alone.
      }
      throw new AdminApiError(res.status, parsed.error?.code ?? `HTTP_${res.status}`, parsed.error?.message ?? `${method} ${path} answered ${res.status}`, parsed.error?.details);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  startAsset(index: RenditionIndex) {
    return this.request<AssetStatus>("PUT", `/v1/admin/assets/${index.assetId}`, { json: index });
  }

  assetStatus(assetId: string) {
    return this.request<AssetStatus>("GET", `/v1/admin/assets/${assetId}`);
  }

  putFile(assetId: string, path: string, bytes: Uint8Array) {
    return this.request<void>("PUT", `/v1/admin/assets/${assetId}/files/${encodeURIComponent(path)}`, { bytes });
  }

  startMultipart(assetId: string, path: string) {
    return this.request<{ uploadId: string; partBytes: number }>("POST", `/v1/admin/assets/${assetId}/multipart`, { json: { path } });
  }

  putPart(assetId: string, path: string, uploadId: string, partNumber: number, bytes: Uint8Array) {
    const query = new URLSearchParams({ path, uploadId, partNumber: String(partNumber) });
    return this.request<{ partNumber: number; etag: string }>("PUT", `/v1/admin/assets/${assetId}/multipart/part?${query}`, { bytes });
  }

  completeMultipart(assetId: string, path: string, uploadId: string, parts: { partNumber: number; etag: string }[]) {
    return this.request<void>("POST", `/v1/admin/assets/${assetId}/multipart/complete`, { json: { path, uploadId, parts } });
  }

  abortMultipart(assetId: string, path: string, uploadId: string) {
    return this.request<void>("POST", `/v1/admin/assets/${assetId}/multipart/abort`, { json: { path, uploadId } });
  }

  publish(assetId: string, target: { titleId?: string; episode?: { season: number; number: number; name?: string } }) {
    return this.request<{ assetId: string; status: "published"; titleId?: string; episodeId?: string; replication: ReplicaStatus[] }>("POST", `/v1/admin/assets/${assetId}/publish`, {
      json: target,
    });
  }

  createTitle(title: { name: string; kind: "movie" | "series" }) {
    return this.request<{ id: string }>("POST", "/v1/admin/titles", { json: title });
  }

  /** A title with its seasons and episodes (each episode's asset id, null before it has video). */
  title(titleId: string) {
    return this.request<AdminTitleView>("GET", `/v1/admin/titles/${encodeURIComponent(titleId)}`);
  }

  putAnalysis(analysis: EpisodeAnalysis) {
    return this.request<void>("PUT", `/v1/admin/assets/${analysis.assetId}/analysis`, { json: analysis });
  }

  analysis(assetId: string) {
    return this.request<EpisodeAnalysis>("GET", `/v1/admin/assets/${assetId}/analysis`);
  }

  /** Detected segments for an episode (`episode`) or a film: they never replace an operator's (source `detected`). */
  putDetectedSegments(titleId: string, episode: { season: number; number: number } | null, segments: SkipSegment[]) {
    const path = episode
      ? `/v1/admin/titles/${encodeURIComponent(titleId)}/seasons/${episode.season}/episodes/${episode.number}/segments`
      : `/v1/admin/titles/${encodeURIComponent(titleId)}/segments`;
    const body = { source: "detected", segments: segments.map((s) => ({ kind: s.kind, startSec: s.startSec, endSec: s.endSec, confidence: s.confidence })) };
    return this.request<{ assetId: string; segments: (SkipSegment & { visible: boolean })[] }>("PUT", path, { json: body });
  }
}

export type AdminTitleView = {
  id: string;
  kind: "movie" | "series";
  assetId: string | null;
  seasons: { number: number; name: string; episodes: { id: string; number: number; name: string; assetId: string | null }[] }[];
};
