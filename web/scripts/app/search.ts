// Search as you type: GET /v1/search?q= a moment after the last keystroke (an older
// request still running is aborted), results drawn as the same poster cards the server
// renders, the address kept in step so Back and reload show the same search.
import { api } from "./api.ts";

type Hit = { id: string; name: string; posterPath: string | null };

const DEBOUNCE_MS = 200;
const SAFE_POSTER = /^\/[A-Za-z0-9._~\-/]+$/;

function card(hit: Hit, fallbackPoster: string, eager: boolean): HTMLLIElement {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.className = "card";
  a.href = `/title/${encodeURIComponent(hit.id)}`;
  a.dataset.titleId = hit.id;
  const img = document.createElement("img");
  img.className = "poster";
  img.src = hit.posterPath && SAFE_POSTER.test(hit.posterPath) && !hit.posterPath.includes("..") ? hit.posterPath : fallbackPoster;
  img.width = 200;
  img.height = 300;
  img.alt = hit.name;
  img.loading = eager ? "eager" : "lazy";
  img.decoding = "async";
  a.append(img);
  if (img.src.startsWith("data:")) {
    // No artwork: the neutral poster says nothing, so the name goes under it.
    const caption = document.createElement("span");
    caption.className = "card-caption";
    caption.textContent = hit.name;
    a.append(caption);
  }
  li.append(a);
  return li;
}

function statusText(q: string, count: number): string {
  if (!q) return "Find films and series by title, story, cast or crew.";
  if (count === 0) return `No titles match “${q}”.`;
  return `${count} ${count === 1 ? "title matches" : "titles match"} “${q}”.`;
}

export function initSearch(): void {
  const input = document.querySelector<HTMLInputElement>("input#search");
  const results = document.getElementById("search-results");
  const status = document.getElementById("search-status");
  const form = input?.form;
  if (!input || !results || !status || !form) return;
  const limit = Number(results.dataset.limit) || 30;
  const fallbackPoster = results.dataset.noPoster ?? "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;
  let shown = input.value.trim();

  const run = async () => {
    const q = input.value.trim().slice(0, 100);
    if (q === shown) return;
    shown = q;
    history.replaceState(null, "", q ? `/search?q=${encodeURIComponent(q)}` : "/search");
    document.title = q ? `Search: ${q} · Marquee` : "Search · Marquee";
    inFlight?.abort();
    if (!q) {
      results.replaceChildren();
      status.textContent = statusText("", 0);
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    results.setAttribute("aria-busy", "true");
    try {
      const answer = await api<{ results: Hit[] }>("GET", `/v1/search?q=${encodeURIComponent(q)}&limit=${limit}`, undefined, { signal: controller.signal });
      if (controller.signal.aborted) return;
      if (!answer.ok) {
        status.textContent = answer.status === 0 ? answer.message : "Search is unavailable right now. Try again in a moment.";
        return;
      }
      results.replaceChildren(...answer.data.results.map((hit, i) => card(hit, fallbackPoster, i < 6)));
      status.textContent = statusText(q, answer.data.results.length);
    } catch (err) {
      if ((err as Error)?.name !== "AbortError") throw err;
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        results.removeAttribute("aria-busy");
      }
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    void run();
  });
}
