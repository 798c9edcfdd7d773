// Watch together in the web player (docs/watch-party.md): a bundle of its own, loaded by
// the player (web/scripts/player.ts) only when the page is in a party or the viewer starts
// one, so a solo viewer downloads none of it. It joins the party's socket with this page's
// own playback session, keeps the video on the party's clock (./party/sync.ts), turns the
// viewer's play, pause and seek into the party's, and shows who is watching.
import { HEARTBEAT_INTERVAL_MS, PARTY_CLOSE, type ClientMessage, type PartyControl, type PartyInfo, type PartyMember, type ServerMessage } from "../../lib/watch-party.ts";
import type { Api } from "./player/api.ts";
import type { ControlGate, GateAnswer } from "./player/controls.ts";
import { PartyConnection } from "./party/connection.ts";
import { PartyPanel } from "./party/panel.ts";
import { PartySync } from "./party/sync.ts";

/** What the player hands the party. */
export type PartyContext = {
  partyId: string;
  playbackSessionId: string;
  video: HTMLVideoElement;
  shell: HTMLElement;
  api: Pick<Api, "call">;
  durationSec: () => number;
  /** The viewer left the party: the player goes on alone. */
  onLeft(): void;
};

export type PartyHandle = { gate: ControlGate; stop(): void };

const ERRORS: Record<string, string> = {
  NOT_ALLOWED: "Only the host controls playback in this party.",
  RATE_LIMITED: "Slow down a little.",
};

export async function startParty(ctx: PartyContext): Promise<PartyHandle | null> {
  const { partyId, video } = ctx;
  const info = await ctx.api.call<PartyInfo>("GET", `/v1/parties/${encodeURIComponent(partyId)}`).catch(() => null);
  const toastOnly = (text: string) => {
    const note = document.createElement("p");
    note.className = "party-toast party-toast-alone";
    note.textContent = text;
    ctx.shell.append(note);
    setTimeout(() => note.remove(), 6000);
  };
  if (!info || info.status !== 200 || !info.body || !("partyId" in info.body)) {
    toastOnly(info?.status === 404 ? "This watch party has ended." : "Could not reach the watch party.");
    return null;
  }
  const party = info.body;
  if (party.full) {
    toastOnly("This watch party is full.");
    return null;
  }

  let you: string | null = null;
  let hostId: string | null = party.hostId;
  let control: PartyControl = party.control;
  let waitForEveryone = party.waitForEveryone;
  const members = new Map<string, PartyMember>();
  /** Stalled: the video waiting for data, or the sync's seek taking long; `buffering` is what the party was last told. */
  let videoStalled = false;
  let syncStalled = false;
  let buffering = false;
  /**
   * joining: not in yet (the player acts alone); in: the party decides; reconnecting: a
   * drop, the party still decides (the sync keeps the video on its last state); over: the
   * party ended or another tab took it over, and this player goes on alone.
   */
  let phase: "joining" | "in" | "reconnecting" | "over" = "joining";
  let left = false;

  const name = (id: string | null) => (id === you ? "You" : (members.get(id ?? "")?.name ?? "Someone"));
  const render = () => panel.members([...members.values()], hostId, you, control, waitForEveryone);
  const mayControl = () => control === "everyone" || (you !== null && you === hostId);

  const sync = new PartySync(
    video,
    ctx.durationSec,
    () => conn.offsetMs,
    (stalled) => {
      syncStalled = stalled;
      reportStall();
    },
  );
  const send = (m: ClientMessage) => conn.send(m);
  const panel = new PartyPanel(ctx.shell, `${location.origin}/party/${partyId}`, {
    react: (emoji) => send({ t: "reaction", emoji }),
    settings: (change) => send({ t: "settings", ...change }),
    handOver: (to) => send({ t: "host", to }),
    leave: () => stop(true),
  });
  const ws = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/v1/parties/${encodeURIComponent(partyId)}/socket?playbackSessionId=${encodeURIComponent(ctx.playbackSessionId)}`;
  const conn = new PartyConnection(ws, {
    open: () => panel.status("Joining…"),
    closed: (code, final) => {
      if (left) return;
      if (!final) {
        if (phase === "in") phase = "reconnecting";
        panel.status("Reconnecting…");
        return;
      }
      const never = phase === "joining";
      phase = "over";
      panel.status(
        code === PARTY_CLOSE.ended ? "This watch party has ended." : code === PARTY_CLOSE.replaced ? "This party is open in another tab." : never ? "Could not join the watch party." : "Disconnected from the party.",
      );
      sync.stop();
    },
    // A refused upgrade reads as a 1006 like any drop: before trying again, ask whether the party is still there.
    stillThere: async () => {
      const answer = await ctx.api.call<PartyInfo>("GET", `/v1/parties/${encodeURIComponent(partyId)}`).catch(() => null);
      return answer?.status !== 404;
    },
    message: (m) => onMessage(m),
  });

  function onMessage(m: ServerMessage): void {
    switch (m.t) {
      case "welcome":
        phase = "in";
        you = m.you;
        hostId = m.party.hostId;
        control = m.party.control;
        waitForEveryone = m.party.waitForEveryone;
        members.clear();
        for (const member of m.members) members.set(member.id, member);
        panel.status(m.members.length === 1 ? "Waiting for others to join" : `${m.members.length} watching`);
        render();
        sync.apply(m.state);
        sync.start();
        return;
      case "state":
        sync.apply(m.state);
        if (m.cause === "wait" && m.state.waitingFor.length > 0) panel.toast(`Waiting for ${m.state.waitingFor.map(name).join(", ")}`);
        return;
      case "join":
        members.set(m.member.id, m.member);
        panel.toast(`${m.member.name} joined`);
        panel.status(`${members.size} watching`);
        render();
        return;
      case "member":
        members.set(m.member.id, m.member);
        render();
        return;
      case "leave": {
        const who = name(m.memberId);
        members.delete(m.memberId);
        panel.toast(`${who} left`);
        panel.status(members.size === 1 ? "Waiting for others to join" : `${members.size} watching`);
        render();
        return;
      }
      case "host":
        hostId = m.hostId;
        if (m.hostId) panel.toast(m.hostId === you ? "You are the host now" : `${name(m.hostId)} is the host now`);
        render();
        return;
      case "settings":
        control = m.control;
        waitForEveryone = m.waitForEveryone;
        render();
        return;
      case "reaction":
        panel.float(m.emoji, name(m.from));
        return;
      case "error":
        if (ERRORS[m.code]) panel.toast(ERRORS[m.code]!);
        // Refused: put the player back where the party is.
        sync.tick();
        return;
      case "pong":
        return;
    }
  }

  // Stalls, at once; and where we are, while playing.
  const beat = () => phase === "in" && send({ t: "heartbeat", pos: video.currentTime, buffering });
  function reportStall(): void {
    if (buffering === (videoStalled || syncStalled)) return;
    buffering = !buffering;
    beat();
  }
  video.addEventListener("waiting", () => {
    if (video.paused) return;
    videoStalled = true;
    reportStall();
  });
  video.addEventListener("playing", () => {
    videoStalled = false;
    reportStall();
  });
  const heartbeat = setInterval(() => !video.paused && beat(), HEARTBEAT_INTERVAL_MS);

  /**
   * A viewer's action: sent to the party (whose answer moves everyone, us included), or
   * refused with a word and the video left where the party has it. Before the welcome and
   * after the party is over, the player acts alone.
   */
  const ask = (m: ClientMessage): GateAnswer => {
    if (phase === "joining" || phase === "over") return "alone";
    const refused = !mayControl() ? ERRORS.NOT_ALLOWED! : phase === "reconnecting" || !send(m) ? "Reconnecting to the party; try again in a moment." : null;
    if (refused === null) return "sent";
    panel.toast(refused);
    sync.tick();
    return "refused";
  };
  const gate: ControlGate = {
    // Play on a video that has ended starts the film over, as it does alone.
    play: (pos) => ask({ t: "play", pos: video.ended ? 0 : pos }),
    pause: (pos) => ask({ t: "pause", pos }),
    seek: (to) => ask({ t: "seek", pos: Math.max(0, to) }),
  };

  function stop(leaving: boolean): void {
    left = true;
    phase = "over";
    clearInterval(heartbeat);
    sync.stop();
    if (leaving) conn.leave();
    else conn.stop();
    panel.remove();
    if (leaving) ctx.onLeft();
  }

  // For the browser tests and benches, and for debugging: read-only.
  Object.defineProperty(window, "__marqueeParty", {
    configurable: true,
    value: Object.freeze({
      state: () => ({
        connected: phase === "in",
        phase,
        you,
        hostId,
        control,
        waitForEveryone,
        members: [...members.values()].map((m) => ({ ...m })),
        offsetMs: conn.offsetMs,
        rttMs: conn.rttMs,
        party: sync.state ? { ...sync.state } : null,
        partyPosition: sync.partyPosition(),
        driftSec: sync.lastDriftSec,
        seeks: sync.seeks,
        ...sync.learnt,
      }),
    }),
  });

  conn.connect();
  return { gate, stop: () => stop(false) };
}
