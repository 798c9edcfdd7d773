// What a watch party shows in the player: the members' avatars (the host marked, a stalled
// member dimmed), the invite link with a Copy button, the host's settings and hand-over,
// reactions (sent, and floating up when anyone sends one), and toasts for arrivals,
// departures and refusals. Text only, never HTML: names come from other accounts.
import { REACTIONS, type PartyControl, type PartyMember, type Reaction } from "../../../lib/watch-party.ts";
import { el } from "../player/dom.ts";

export type PanelHooks = {
  react(emoji: Reaction): void;
  settings(change: { control?: PartyControl; waitForEveryone?: boolean }): void;
  handOver(memberId: string): void;
  leave(): void;
};

const TOAST_MS = 4000;
const FLOAT_MS = 2500;

export class PartyPanel {
  readonly root: HTMLElement;
  readonly #members: HTMLUListElement;
  readonly #invite: HTMLInputElement;
  readonly #copy: HTMLButtonElement;
  readonly #settings: HTMLElement;
  readonly #everyone: HTMLInputElement;
  readonly #wait: HTMLInputElement;
  readonly #toasts: HTMLElement;
  readonly #floats: HTMLElement;
  readonly #status: HTMLElement;

  constructor(
    shell: HTMLElement,
    inviteUrl: string,
    private readonly hooks: PanelHooks,
  ) {
    this.#members = el("ul", { class: "party-members", attrs: { "aria-label": "In this party" } });
    this.#invite = el("input", { class: "party-invite", attrs: { id: "party-invite", type: "text", readonly: "", value: inviteUrl, "aria-label": "Invite link" } });
    this.#copy = el("button", { class: "party-button", text: "Copy", attrs: { id: "party-copy", type: "button" } });
    this.#copy.addEventListener("click", () => void this.#copyInvite());
    this.#everyone = el("input", { attrs: { id: "party-everyone", type: "checkbox" } });
    this.#wait = el("input", { attrs: { id: "party-wait", type: "checkbox" } });
    this.#everyone.addEventListener("change", () => this.hooks.settings({ control: this.#everyone.checked ? "everyone" : "host" }));
    this.#wait.addEventListener("change", () => this.hooks.settings({ waitForEveryone: this.#wait.checked }));
    this.#settings = el("div", { class: "party-settings", attrs: { hidden: "" } }, [
      el("label", {}, [this.#everyone, document.createTextNode(" Everyone can control")]),
      el("label", {}, [this.#wait, document.createTextNode(" Wait for everyone")]),
    ]);
    const reactions = el(
      "div",
      { class: "party-reactions", attrs: { role: "group", "aria-label": "React" } },
      REACTIONS.map((emoji) => {
        const b = el("button", { class: "party-reaction", text: emoji, attrs: { type: "button", "data-emoji": emoji, "aria-label": `React ${emoji}` } });
        b.addEventListener("click", () => this.hooks.react(emoji));
        return b;
      }),
    );
    const leave = el("button", { class: "party-button party-leave", text: "Leave party", attrs: { id: "party-leave", type: "button" } });
    leave.addEventListener("click", () => this.hooks.leave());
    this.#status = el("p", { class: "party-status", text: "Connecting…", attrs: { id: "party-status" } });
    this.root = el("aside", { class: "party-panel", attrs: { id: "party-panel", "aria-label": "Watch together" } }, [
      el("h2", { class: "party-heading", text: "Watch together" }),
      this.#status,
      this.#members,
      el("div", { class: "party-invite-row" }, [this.#invite, this.#copy]),
      this.#settings,
      reactions,
      leave,
    ]);
    this.#toasts = el("div", { class: "party-toasts", attrs: { id: "party-toasts", role: "status", "aria-live": "polite" } });
    this.#floats = el("div", { class: "party-floats", attrs: { "aria-hidden": "true" } });
    shell.append(this.root, this.#toasts, this.#floats);
    // The panel is part of the controls: pressing its buttons must not also toggle play.
    this.root.addEventListener("click", (e) => e.stopPropagation());
  }

  status(text: string): void {
    this.#status.textContent = text;
  }

  /** Everyone in the party, host first, then by arrival. */
  members(members: PartyMember[], hostId: string | null, you: string | null, control: PartyControl, waitForEveryone: boolean): void {
    const sorted = [...members].sort((a, b) => Number(b.id === hostId) - Number(a.id === hostId) || a.joinedAt - b.joinedAt);
    const youHost = you !== null && you === hostId;
    this.#members.replaceChildren(
      ...sorted.map((m) => {
        const avatar = el("span", { class: `avatar party-avatar avatar-${m.avatar.replace(/[^a-z0-9-]/g, "").replace(/^avatar-/, "")}`, text: [...m.name.trim()][0]?.toUpperCase() ?? "?", attrs: { "aria-hidden": "true" } });
        const label = `${m.name}${m.id === you ? " (you)" : ""}${m.id === hostId ? ", host" : ""}${m.present ? "" : ", reconnecting"}${m.buffering ? ", loading" : ""}`;
        const item = el("li", { class: "party-member", attrs: { "data-member-id": m.id, "data-host": String(m.id === hostId), "data-present": String(m.present), "data-buffering": String(m.buffering), title: label } }, [
          avatar,
          el("span", { class: "party-name", text: m.name }),
        ]);
        if (m.id === hostId) item.append(el("span", { class: "party-host-mark", text: "★", attrs: { "aria-label": "host" } }));
        if (youHost && m.id !== you && m.present) {
          const make = el("button", { class: "party-make-host", text: "Make host", attrs: { type: "button", "data-make-host": m.id } });
          make.addEventListener("click", () => this.hooks.handOver(m.id));
          item.append(make);
        }
        return item;
      }),
    );
    this.#settings.hidden = !youHost;
    this.#everyone.checked = control === "everyone";
    this.#wait.checked = waitForEveryone;
  }

  toast(text: string): void {
    const t = el("p", { class: "party-toast", text });
    this.#toasts.append(t);
    setTimeout(() => t.remove(), TOAST_MS);
  }

  /** A reaction floating up over the picture, with who sent it. */
  float(emoji: string, from: string): void {
    const f = el("span", { class: "party-float", text: emoji, attrs: { "data-from": from, "data-emoji": emoji } });
    f.style.setProperty("--x", `${10 + Math.random() * 70}%`);
    this.#floats.append(f);
    setTimeout(() => f.remove(), FLOAT_MS);
  }

  remove(): void {
    this.root.remove();
    this.#floats.remove();
    setTimeout(() => this.#toasts.remove(), TOAST_MS);
  }

  async #copyInvite(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.#invite.value);
      this.#copy.textContent = "Copied";
    } catch {
      // No clipboard (an insecure origin, or permission refused): selected, ready for Ctrl-C.
      this.#invite.focus();
      this.#invite.select();
      this.#copy.textContent = "Press Ctrl-C";
    }
    setTimeout(() => (this.#copy.textContent = "Copy"), 2000);
  }
}
