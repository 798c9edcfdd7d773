// Structured logs: one JSON object per line, typed events rather than free text, so
// Workers Logs and `wrangler tail` can filter on fields.

export type LogEvent =
  | { event: "request"; requestId: string; method: string; path: string; status: number; durationMs: number }
  | { event: "unhandled_error"; requestId: string; method: string; path: string; message: string; stack: string }
  | { event: "dependency_failed"; requestId: string; dependency: string; message: string }
  | { event: "chaos_on" | "chaos_refused" | "config_invalid"; requestId: string; message: string }
  /** A file (or index) the requested pathway's origin could not give, served from another (docs/media-origin.md). */
  | { event: "origin_fallback"; requestId: string; from: string; to: string; key: string }
  | { event: "r2_read"; key: string; range: boolean }
  | { event: "billing_event_ignored"; eventId: string; type: string; reason: string }
  | { event: "billing_event_handled"; eventId: string; type: string; outcome: "applied" | "stale" }
  | { event: "stripe_request_failed"; status: number | null; message: string }
  | { event: "cron"; cron: string; scheduledTime: string; removed: Record<string, number> }
  | { event: "queue_batch"; queue: string; shard?: number; messages: number; events?: number; applied: number; retried: number; deadLettered: number; d1RoundTrips: number }
  | { event: "qoe_malformed"; requestId: string; message: string }
  | { event: "live_event"; liveId: string; state: "live" | "ended"; reason?: string; segments: number };

/**
 * Playback paths carry their token (`/p/{token}`, and on a replica's pathway `/p2/{token}`):
 * a credential, kept out of logs. `/p/healthz` is not a token.
 */
export function redactedPath(path: string): string {
  // A watch party's id is its invite: whoever has it may join (docs/watch-party.md).
  return path.replace(/^\/(p[2-9]?)\/(?!healthz\/?$)[^/]+/, "/$1/<token>").replace(/pty_[A-Za-z0-9_-]{22}/g, "pty_<invite>");
}

export type LogLevel = "debug" | "info" | "warn" | "error";

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: LogLevel = "info";

/** Set once per isolate from the `LOG_LEVEL` var; tests raise it to keep output readable. */
export function setLogLevel(level: string | undefined): void {
  if (level && level in rank) threshold = level as LogLevel;
}

export function log(level: LogLevel, entry: LogEvent): void {
  if (rank[level] < rank[threshold]) return;
  const line = JSON.stringify({ level, time: new Date().toISOString(), ...entry });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
