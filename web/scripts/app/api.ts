// Calls to the JSON API from the pages: same-origin with the session cookie, the page's
// CSRF token (<meta name="csrf-token">) on every state-changing request, and one shape
// for answers so every caller can show the API's own error message.

export type ApiAnswer<T> = { ok: true; status: number; data: T } | { ok: false; status: number; code: string; message: string };

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function meta(name: string): string | null {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content || null;
}

type ErrorBody = { error?: { code?: string; message?: string; details?: unknown } };

/** The API's message, with the field problems of a VALIDATION_FAILED spelled out. */
export function errorMessage(body: ErrorBody | null, status: number): string {
  const error = body?.error;
  if (error?.code === "VALIDATION_FAILED" && Array.isArray(error.details) && error.details.length > 0) {
    return (error.details as { path?: string; message?: string }[])
      .map((d) => (d.path ? `${d.path[0]!.toUpperCase()}${d.path.slice(1)}: ${d.message}` : d.message))
      .join(" ");
  }
  if (error?.message) return error.message;
  if (status === 0) return "Marquee cannot be reached. Check your connection and try again.";
  return `Something went wrong (${status}). Try again.`;
}

export async function api<T = unknown>(method: string, url: string, body?: unknown, init: { signal?: AbortSignal } = {}): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const csrf = meta("csrf-token");
  if (WRITES.has(method) && csrf) headers["x-csrf-token"] = csrf;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, credentials: "same-origin", ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(init.signal ? { signal: init.signal } : {}) });
  } catch (err) {
    if ((err as Error)?.name === "AbortError") throw err;
    return { ok: false, status: 0, code: "NETWORK", message: errorMessage(null, 0) };
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (res.ok) return { ok: true, status: res.status, data: parsed as T };
  const errorBody = parsed as ErrorBody | null;
  return { ok: false, status: res.status, code: errorBody?.error?.code ?? "HTTP_" + res.status, message: errorMessage(errorBody, res.status) };
}

/** Shows (or, with null, hides) a message in a form's [role=alert] element. */
export function showError(alert: HTMLElement | null, message: string | null): void {
  if (!alert) return;
  alert.textContent = message ?? "";
  alert.hidden = !message;
}

/** Disables a control while `work` runs (no double submits), marking it busy; keeps keyboard focus on it. */
export async function busy<T>(control: HTMLButtonElement | null, work: () => Promise<T>): Promise<T> {
  const hadFocus = control !== null && document.activeElement === control;
  if (control) {
    control.disabled = true;
    control.setAttribute("aria-busy", "true");
  }
  try {
    return await work();
  } finally {
    if (control) {
      control.disabled = false;
      control.removeAttribute("aria-busy");
      // A disabled button drops focus; a keyboard user should not lose their place.
      if (hadFocus && (document.activeElement === document.body || document.activeElement === null)) control.focus();
    }
  }
}
