// #player-error[data-code]: what stopped playback, in words, with the way out.
// TOO_MANY_STREAMS lists who is watching, with a button per stream that starts here again
// with `endStreamId`; STREAM_ENDED offers to play again; NO_PLAN links to /plans;
// NETWORK retries by itself (and on a button).
import type { Problem, ActiveStream } from "./session.ts";
import { el } from "./dom.ts";
import { formatClock } from "./format.ts";

export type ErrorActions = {
  /** Start again, ending that stream first (TOO_MANY_STREAMS). */
  endStreamAndPlay(streamId: string): void;
  retry(): void;
  /** Start a new stream from scratch (after STREAM_ENDED). */
  playAgain(): void;
};

const STREAM_ENDED_REASONS: Record<string, string> = {
  ended_by_other_device: "Playback was stopped from another device on your account.",
  released: "This stream was stopped.",
  expired: "This stream timed out after it lost contact with Marquee.",
  plan_ended: "Your plan no longer includes streaming.",
  plan_limit: "Your plan now allows fewer screens at once, and this stream started last.",
  max_lifetime: "This stream has played for 12 hours. Press Play again to go on.",
};

function since(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  return new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function streamItem(stream: ActiveStream, actions: ErrorActions): HTMLLIElement {
  const button = el("button", {
    class: "end-stream",
    text: "Stop it and watch here",
    attrs: { type: "button", "data-stream-id": stream.id },
  });
  button.addEventListener("click", () => {
    button.disabled = true;
    actions.endStreamAndPlay(stream.id);
  });
  const who = `${stream.profileName} on ${stream.deviceName}${stream.thisDevice ? " (this device)" : ""}`;
  const what = `${stream.titleName} · at ${formatClock(stream.positionSec)}${since(stream.since) ? ` · since ${since(stream.since)}` : ""}`;
  return el("li", { class: "stream", attrs: { "data-stream-id": stream.id } }, [
    el("span", { class: "stream-who", text: who }),
    el("span", { class: "stream-what", text: what }),
    button,
  ]);
}

function button(id: string, text: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", { class: "player-action", text, attrs: { type: "button", id } });
  b.addEventListener("click", onClick);
  return b;
}

function link(href: string, text: string): HTMLAnchorElement {
  return el("a", { class: "player-action", text, attrs: { href } });
}

function here(): string {
  return encodeURIComponent(location.pathname + location.search);
}

export function screenFor(problem: Problem, actions: ErrorActions): { code: string; title: string; message: string; body: Node[] } {
  switch (problem.code) {
    case "TOO_MANY_STREAMS": {
      const limit = problem.limit === null ? "" : ` Your plan allows ${problem.limit} screen${problem.limit === 1 ? "" : "s"} at a time.`;
      return {
        code: problem.code,
        title: "Too many people are using your account right now",
        message: `Stop one of these streams to watch here, or upgrade your plan for more screens.${limit}`,
        body: [el("ul", { class: "streams" }, problem.streams.map((s) => streamItem(s, actions))), link("/plans", "See plans")],
      };
    }
    case "STREAM_ENDED":
      return {
        code: problem.code,
        title: "Playback stopped",
        message: STREAM_ENDED_REASONS[problem.reason] ?? "This stream has ended.",
        // A plan that ended is fixed on the plans page; Play again would only be refused.
        body: problem.reason === "plan_ended" ? [link("/plans", "Choose a plan")] : [button("play-again", "Play again", actions.playAgain)],
      };
    case "NO_PLAN":
      return {
        code: problem.code,
        title: "Choose a plan to start watching",
        message: problem.status === "canceled" ? "Your plan was canceled." : "Your account has no plan yet.",
        body: [link("/plans", "Choose a plan")],
      };
    case "NETWORK":
      return {
        code: problem.code,
        title: "Connection lost",
        message: "Check your connection. We will try again automatically.",
        body: [button("player-retry", "Try again", actions.retry)],
      };
    case "PROFILE_REQUIRED":
      return {
        code: problem.code,
        title: "Who's watching?",
        message: problem.reason === "profile_locked" ? "Enter this profile's PIN to watch." : "Choose a profile to watch.",
        body: [link(`/profiles?next=${here()}`, "Choose a profile")],
      };
    case "SIGNED_OUT":
      return { code: problem.code, title: "You are signed out", message: "Sign in again to keep watching.", body: [link(`/login?next=${here()}`, "Sign in")] };
    case "NOT_AVAILABLE":
      return {
        code: problem.code,
        title: "This title is not available",
        message: problem.reason === "maturity" ? "It is not available on this profile." : problem.message,
        body: [link("/", "Back to browsing")],
      };
    case "UNAVAILABLE":
      return { code: problem.code, title: "Something went wrong", message: problem.message, body: [button("player-retry", "Try again", actions.retry)] };
    case "PLAYBACK":
      return { code: problem.code, title: "This video cannot be played", message: problem.message, body: [button("player-retry", "Try again", actions.retry)] };
    case "UNSUPPORTED":
      return { code: problem.code, title: "This browser cannot play video here", message: "Try a current version of Chrome, Edge, Firefox or Safari.", body: [] };
  }
}

export class ErrorView {
  constructor(
    private readonly root: HTMLElement,
    private readonly actions: ErrorActions,
  ) {}

  code(): string | null {
    return this.root.hidden ? null : this.root.dataset.code || null;
  }

  show(problem: Problem): void {
    const screen = screenFor(problem, this.actions);
    this.root.dataset.code = screen.code;
    this.root.querySelector(".player-error-title")!.textContent = screen.title;
    this.root.querySelector(".player-error-message")!.textContent = screen.message;
    this.root.querySelector(".player-error-body")!.replaceChildren(...screen.body);
    this.root.hidden = false;
    const focusable = this.root.querySelector<HTMLElement>("button, a");
    focusable?.focus();
  }

  hide(): void {
    this.root.hidden = true;
    this.root.dataset.code = "";
    this.root.querySelector(".player-error-body")!.replaceChildren();
  }
}
