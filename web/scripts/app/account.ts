// The account page's controls: end a stream (DELETE /v1/playback/sessions/{id}) or sign a
// device out (DELETE /v1/auth/sessions/{id}), each list then redrawn from the API
// (GET /v1/playback/sessions, GET /v1/auth/sessions); and sign out everywhere.
import { api, busy, showError } from "./api.ts";

type Stream = { id: string; deviceName: string; profileName: string; titleName: string; thisDevice: boolean };
type Device = { id: string; kind: "web" | "device"; deviceName: string; lastSeenAt: string; current: boolean };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string | null, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

const hidden = (text: string) => el("span", "visually-hidden", text);

function streamItem(s: Stream): HTMLLIElement {
  const li = el("li", null, el("span", "item-main", s.titleName), el("span", "item-facts", `${s.profileName} on ${s.deviceName}${s.thisDevice ? " (this device)" : ""}`));
  li.dataset.streamId = s.id;
  const button = el("button", "button button-quiet button-small end-stream", "End stream", hidden(` ${s.titleName} on ${s.deviceName}`));
  button.type = "button";
  button.dataset.streamId = s.id;
  li.append(button);
  return li;
}

function deviceItem(d: Device): HTMLLIElement {
  const main = el("span", "item-main", d.deviceName);
  if (d.current) main.append(el("span", "badge", "This device"));
  const li = el("li", null, main, el("span", "item-facts", `${d.kind === "web" ? "Browser" : "App or TV"} · last used ${d.lastSeenAt.slice(0, 10)}`));
  li.dataset.sessionId = d.id;
  if (!d.current) {
    const button = el("button", "button button-quiet button-small end-session", "Sign out", hidden(` ${d.deviceName}`));
    button.type = "button";
    button.dataset.sessionId = d.id;
    li.append(button);
  }
  return li;
}

export function initAccount(): void {
  const streams = document.getElementById("streams");
  const devices = document.getElementById("devices");
  const everywhere = document.querySelector<HTMLButtonElement>("button#sign-out-everywhere");
  if (!streams && !devices && !everywhere) return;
  const alert = document.getElementById("account-error");
  const empty = document.getElementById("streams-empty");

  const redrawStreams = async () => {
    const answer = await api<{ streams: Stream[] }>("GET", "/v1/playback/sessions");
    if (!answer.ok || !streams) return;
    streams.replaceChildren(...answer.data.streams.map(streamItem));
    if (empty) empty.hidden = answer.data.streams.length > 0;
  };
  const redrawDevices = async () => {
    const answer = await api<{ sessions: Device[] }>("GET", "/v1/auth/sessions");
    if (answer.ok && devices) devices.replaceChildren(...answer.data.sessions.map(deviceItem));
  };

  streams?.addEventListener("click", async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.end-stream");
    const id = button?.dataset.streamId ?? button?.closest<HTMLElement>("li[data-stream-id]")?.dataset.streamId;
    if (!button || !id) return;
    const answer = await busy(button, () => api("DELETE", `/v1/playback/sessions/${encodeURIComponent(id)}`));
    // 404: it had already ended; the redraw shows what is left either way.
    showError(alert, answer.ok || answer.status === 404 ? null : answer.message);
    await redrawStreams();
    (streams.querySelector<HTMLButtonElement>("button.end-stream") ?? document.getElementById("streams-heading"))?.focus();
  });

  devices?.addEventListener("click", async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.end-session");
    const id = button?.dataset.sessionId;
    if (!button || !id) return;
    const answer = await busy(button, () => api("DELETE", `/v1/auth/sessions/${encodeURIComponent(id)}`));
    showError(alert, answer.ok || answer.status === 404 ? null : answer.message);
    await redrawDevices();
  });

  everywhere?.addEventListener("click", async () => {
    const answer = await busy(everywhere, () => api("POST", "/v1/auth/logout-all"));
    if (answer.ok || answer.status === 401) location.assign("/");
    else showError(alert, answer.message);
  });
}
