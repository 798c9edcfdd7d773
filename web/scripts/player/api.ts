// Calls to /v1/* from the player, as the web app makes them: the session cookie rides
// along, and every state-changing request carries the page's CSRF token (X-CSRF-Token).

export type ApiErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

export type ApiAnswer<T> = { status: number; body: T | ApiErrorBody | null; retryAfterSec: number | null };

/** fetch() itself failed: offline, DNS, connection reset. */
export class NetworkError extends Error {
  override name = "NetworkError";
}

export function isErrorBody(body: unknown): body is ApiErrorBody {
  return typeof body === "object" && body !== null && "error" in body && typeof (body as ApiErrorBody).error?.code === "string";
}

export class Api {
  constructor(private readonly csrfToken: string) {}

  headers(json: boolean): Record<string, string> {
    return { "X-CSRF-Token": this.csrfToken, ...(json ? { "Content-Type": "application/json" } : {}) };
  }

  async call<T>(method: string, url: string, body?: unknown, init: { keepalive?: boolean; signal?: AbortSignal } = {}): Promise<ApiAnswer<T>> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: this.headers(body !== undefined),
        credentials: "same-origin",
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(init.keepalive ? { keepalive: true } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (err) {
      throw new NetworkError(String(err));
    }
    const text = await res.text().catch(() => "");
    let parsed: T | ApiErrorBody | null = null;
    try {
      parsed = text ? (JSON.parse(text) as T | ApiErrorBody) : null;
    } catch {
      parsed = null;
    }
    const retryAfter = Number(res.headers.get("retry-after"));
    return { status: res.status, body: parsed, retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null };
  }

  /**
   * A request that must outlive the page (pagehide): `keepalive` lets the browser finish
   * it after the document is gone. Not navigator.sendBeacon: a beacon cannot carry the
   * X-CSRF-Token header every cookie-authenticated POST/DELETE to /v1/* needs.
   */
  send(method: string, url: string, body?: unknown): void {
    try {
      void fetch(url, {
        method,
        headers: this.headers(body !== undefined),
        credentials: "same-origin",
        keepalive: true,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }).catch(() => undefined);
    } catch {
      // A keepalive body over the browser's quota throws at once: nothing more to do on the way out.
    }
  }
}
