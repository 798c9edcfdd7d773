// The watch page's player (docs/web-app.md, "The player"): one POST /v1/playback/sessions,
// hls.js from the resume point on the inline master playlist with the newest heartbeat
// token on every request, heartbeats, batched watch events, and a DELETE of the stream on
// leave. The pieces live in ./player/: session and heartbeats, events, the engine
// (hls.js or native HLS), controls and keyboard, trick-play, subtitles, Skip intro / recap,
// next episode and the error screens.
import type { StartedPlayback } from "../../lib/playback-session.ts";
import { Api } from "./player/api.ts";
import { Controls } from "./player/controls.ts";
import { meta, playerElements } from "./player/dom.ts";
import { createEngine, type Engine } from "./player/engine.ts";
import { ErrorView } from "./player/error-screens.ts";
import { WatchEvents } from "./player/events.ts";
import { newId } from "./player/format.ts";
import { takeHandoff } from "./play-on-intent/handoff.ts";
import { NextEpisode } from "./player/next-episode.ts";
import { QoeReporter } from "./player/qoe.ts";
import { Heartbeats, releaseStream, releaseStreamAndWait, startStream, type Problem } from "./player/session.ts";
import { SkipSegments } from "./player/skip-segments.ts";
import { StatusView } from "./player/status.ts";
import { Subtitles } from "./player/subtitles.ts";
import { TokenHolder } from "./player/tokens.ts";
import { TrickPlay } from "./player/trickplay.ts";
import type { PartyHandle, startParty } from "./party.ts";

/** The stream being played, once the POST answered. */
type Playing = {
  session: StartedPlayback;
  tokens: TokenHolder;
  engine: Engine;
  heartbeats: Heartbeats;
  events: WatchEvents;
  qoe: QoeReporter;
  subtitles: Subtitles;
  trickplay: TrickPlay;
  skip: SkipSegments;
  next: NextEpisode | null;
  started: boolean;
  completed: boolean;
  /** The server ended it (STREAM_ENDED): nothing to release. */
  ended: boolean;
  left: boolean;
  rendition: number | null;
  heartbeatsSent: number;
};

/** `?party=` on the watch page: the party this viewer is in (the invite link sends them here). */
function partyIdOf(search: string): string | null {
  const id = new URLSearchParams(search).get("party");
  return id && /^pty_[A-Za-z0-9_-]{22}$/.test(id) ? id : null;
}

/** A start slower than this shows the title's poster while it loads. */
const POSTER_AFTER_MS = 400;

function heartbeatOverrideMs(): number | null {
  const value = Number(new URLSearchParams(location.search).get("heartbeat"));
  return Number.isFinite(value) && value >= 1 && value <= 600 ? value * 1000 : null;
}

function run(): void {
  // What app.js does on every other page (this one loads the player alone).
  document.documentElement.classList.add("js");
  const els = playerElements();
  const titleId = els.main.dataset.titleId ?? "";
  const episodeId = els.main.dataset.episodeId || undefined;
  const profileId = meta("profile-id");
  const api = new Api(meta("csrf-token") ?? "");
  const status = new StatusView(els.status, els.shell);
  const video = els.video;
  // Play on intent: the title page may have started this very stream as the viewer moved to press Play.
  const handoff = takeHandoff({ titleId, episodeId: episodeId ?? null, profileId });
  const clientSessionId = handoff?.clientSessionId ?? newId();
  let current: Playing | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retries = 0;
  let lastProblem: Problem | null = null;
  let autoplayOutcome: "allowed" | "muted" | "blocked" | null = null;
  /** When this view's Play began (its first POST): what the QoE play delay counts from. */
  let beganAt: number | null = null;
  /** In a watch party: the party's position, not the profile's resume point, and the party's play and pause. */
  let partyId = partyIdOf(location.search);
  let party: PartyHandle | null = null;

  const errors = new ErrorView(els.error, {
    endStreamAndPlay: (streamId) => void begin(streamId),
    retry: () => retry(),
    playAgain: () => location.reload(),
  });

  const controls = new Controls(els, {
    onUserSeek: (_from, to) => current?.started && current.events.record("seek", { positionSec: to }),
    onUserSeekStart: (to) => current?.skip.viewerSeek(to),
    onSkip: () => current?.skip.skip(video.currentTime),
    onQuality: (choice) => current?.engine.setQuality(choice),
    onSubtitles: (lang) => current?.subtitles.choose(lang),
    onPlayRequest: () => {
      if (errors.code() === "NETWORK") retry();
    },
  });

  function fail(problem: Problem): void {
    lastProblem = problem;
    status.set("error");
    errors.show(problem);
    if (problem.code === "NETWORK" || problem.code === "UNAVAILABLE") {
      // Connection lost: try again by itself, sooner and sooner apart up to 30 s (and at once when back online).
      clearTimeout(retryTimer);
      retryTimer = setTimeout(retry, Math.min(30_000, 2000 * 2 ** retries++));
    }
  }

  /** After a network failure or a refusal worth retrying: the start again, or the media from where it stopped. */
  function retry(): void {
    clearTimeout(retryTimer);
    errors.hide();
    status.clearError();
    const playing = current;
    if (!playing) {
      void begin();
      return;
    }
    // A fresh token first: the one in hand may have expired while the connection was down.
    void playing.heartbeats.beatNow().then(() => {
      if (!playing.ended && !playing.left) playing.engine.retry();
      void video.play().catch(() => undefined);
    });
  }

  async function begin(endStreamId?: string): Promise<void> {
    errors.hide();
    status.clearError();
    status.set("loading");
    beganAt ??= performance.now();
    const result = await startStream(api, {
      titleId,
      ...(episodeId ? { episodeId } : {}),
      ...(profileId ? { profileId } : {}),
      ...(endStreamId ? { endStreamId } : {}),
      clientSessionId,
    });
    if (!result.ok) {
      fail(result.problem);
      return;
    }
    play(result.session);
  }

  function play(session: StartedPlayback): void {
    // A party starts where the party is (the sync seeks there), not where this profile left off.
    if (partyId) session = { ...session, resume: { positionSec: 0 } };
    document.title = `${session.title} · Marquee`;
    els.title.textContent = session.title;
    els.main.dataset.playbackSessionId = session.id;
    if (session.episodeId) els.main.dataset.playingEpisodeId = session.episodeId;
    // The poster only if the first frame is slow to come: a fast start needs none, and its
    // request would compete with the first segments.
    if (session.posterUrl) {
      const posterUrl = session.posterUrl;
      setTimeout(() => current?.session === session && !current.started && (video.poster = posterUrl), POSTER_AFTER_MS);
    }
    controls.durationSec = session.durationSec;
    controls.live = session.live;

    const tokens = new TokenHolder(session.media.hlsUrl, session.media.tokenExpiresAt);
    const events = new WatchEvents(
      api,
      { playbackSessionId: session.id, profileId: profileId ?? "", titleId: session.titleId, episodeId: session.episodeId, durationSec: session.durationSec },
      // Live: the length so far is the live edge, so watching live near the edge counts as watched (docs/live.md).
      () => ({ positionSec: video.currentTime, durationSec: controls.duration(), rendition: current?.rendition ? `${current.rendition}p` : null }),
    );
    const qoe = new QoeReporter(
      api,
      meta("csrf-token") ?? "",
      video,
      { playbackSessionId: session.id, profileId: profileId ?? "", titleId: session.titleId, episodeId: session.episodeId, planHeight: session.media.maxHeight },
      beganAt ?? performance.now(),
    );
    const subtitles = new Subtitles(video, session.subtitles, tokens, null);
    controls.setSubtitleOptions(subtitles.options(), subtitles.current);
    const trickplay = new TrickPlay(els, tokens, () => controls.duration());

    const engine = createEngine(video, session, tokens, {
      onQualities: (heights) => controls.setQualities(heights),
      onRendition: (height, bitrate) => {
        const playing = current;
        if (!playing) return;
        playing.qoe.rendition(height, bitrate);
        const before = playing.rendition;
        playing.rendition = height;
        controls.setRendition(height);
        if (before !== null && before !== height && playing.started) playing.events.record("quality_change", { rendition: `${height}p` });
      },
      onError: (fatal) => current?.qoe.error(fatal),
      onSubtitleTracks: (langs) => {
        subtitles.streamTracks(langs);
        controls.setSubtitleOptions(subtitles.options(), subtitles.current);
      },
      onFatal: (kind, details) => {
        const playing = current;
        playing?.events.record("error");
        void playing?.events.flush();
        fail(kind === "network" ? { code: "NETWORK" } : { code: "PLAYBACK", message: `The video could not be decoded (${details}).` });
      },
    }, meta("player-hls-script") ?? "");
    if (!engine) {
      fail({ code: "UNSUPPORTED" });
      releaseStream(api, session.id);
      return;
    }
    subtitles.attach(engine);

    const fixed = heartbeatOverrideMs();
    const heartbeats = new Heartbeats(
      api,
      session.heartbeat.url,
      fixed ?? Math.max(1, session.heartbeat.intervalSec) * 1000,
      {
        position: () => video.currentTime,
        onBeat: () => {
          const playing = current;
          if (!playing) return;
          playing.heartbeatsSent++;
          if (playing.started) playing.events.record("heartbeat");
          void playing.events.flush();
          playing.qoe.tick();
        },
        onFreshMedia: (hlsUrl, expiresAt) => {
          tokens.update(hlsUrl, expiresAt);
          engine.tokenRefreshed(hlsUrl);
        },
        onStopped: (problem) => {
          const playing = current;
          if (!playing) return;
          party?.stop();
          playing.ended = true;
          engine.stop();
          video.pause();
          if (playing.started) playing.events.record("stop");
          void playing.events.flush();
          fail(problem);
        },
      },
      fixed !== null,
    );

    // Older answers (and a play-on-intent handoff kept from before) may lack the skip fields.
    // In a party, skipping is the host's seek for everyone: never automatic on each member's player.
    const skip = new SkipSegments(els, session.skipSegments ?? [], !partyId && (session.autoSkip ?? false), {
      seek: (to) => controls.seekTo(to),
      record: (type, segment, positionSec) => current?.started && current.events.record(type, { segment, positionSec }),
    });
    // A party follows one episode: members go on to the next one themselves.
    const next = session.nextEpisode && !partyId ? new NextEpisode(els, session.titleId, session.nextEpisode, (href) => void leaveFor(href), skip.creditsStartSec) : null;
    current = {
      session,
      tokens,
      engine,
      heartbeats,
      events,
      qoe,
      subtitles,
      trickplay,
      skip,
      next,
      started: false,
      completed: false,
      ended: false,
      left: false,
      rendition: null,
      heartbeatsSent: 0,
    };
    heartbeats.start();
    if (partyId) void joinParty(partyId, session);
    else autoplay();
  }

  /** Joins the party with this stream: its bundle is loaded now, and only now (web/dist's party.js). */
  async function joinParty(id: string, session: StartedPlayback): Promise<void> {
    const url = meta("party-script");
    if (!url || party) return;
    let mod: { startParty: typeof startParty };
    try {
      mod = (await import(url)) as { startParty: typeof startParty };
    } catch {
      autoplay();
      return;
    }
    const handle = await mod.startParty({
      partyId: id,
      playbackSessionId: session.id,
      video,
      shell: els.shell,
      api,
      durationSec: () => controls.duration(),
      onLeft: () => {
        party = null;
        partyId = null;
        controls.gate = null;
        els.shell.dataset.party = "";
        history.replaceState(null, "", location.pathname + location.search.replace(/([?&])party=[^&]*&?/, "$1").replace(/[?&]$/, ""));
      },
    });
    if (!handle) {
      // Over, full or unreachable: this viewer watches on their own.
      partyId = null;
      autoplay();
      return;
    }
    party = handle;
    controls.gate = handle.gate;
    els.shell.dataset.party = id;
    // Nothing plays it yet (no autoplay in a party): while the party waits paused, the
    // status says so once the video could play, instead of "Loading…" for ever.
    const ready = () => video.paused && status.state === "loading" && status.set("paused");
    if (video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA) ready();
    else video.addEventListener("canplay", ready, { once: true });
  }

  /** "Watch together" in the player: a party for what is playing, joined in place, with its invite link to share. */
  async function startWatchingTogether(): Promise<void> {
    const playing = current;
    if (!playing || party || partyId) return;
    els.watchTogether.disabled = true;
    const answer = await api
      .call<{ partyId: string; inviteUrl: string }>("POST", "/v1/parties", {
        titleId: playing.session.titleId,
        ...(playing.session.episodeId ? { episodeId: playing.session.episodeId } : {}),
        ...(profileId ? { profileId } : {}),
      })
      .catch(() => null);
    els.watchTogether.disabled = false;
    const body = answer?.body;
    if (!answer || answer.status !== 201 || !body || !("partyId" in body)) {
      status.set("error");
      els.status.textContent = "Could not start a watch party; try again.";
      return;
    }
    partyId = body.partyId;
    const url = new URL(location.href);
    url.searchParams.set("party", body.partyId);
    history.replaceState(null, "", url);
    await joinParty(body.partyId, playing.session);
  }
  els.watchTogether.addEventListener("click", () => void startWatchingTogether());

  /**
   * Plays at once; where the browser refuses sound without a gesture, muted (the mute
   * button shows it); refused even muted, it waits paused for the viewer's play. A play()
   * cut short by the engine's own load (AbortError) is tried again once it can play.
   */
  function autoplay(): void {
    const attempt = () =>
      video.play().then(
        () => (autoplayOutcome ??= video.muted ? "muted" : "allowed"),
        (err: Error) => {
          if (err.name === "AbortError") {
            video.addEventListener("canplay", attempt, { once: true });
            return;
          }
          if (err.name !== "NotAllowedError" || video.muted) {
            autoplayOutcome = "blocked";
            status.set("paused");
            return;
          }
          video.muted = true;
          attempt();
        },
      );
    attempt();
  }

  function complete(playing: Playing): void {
    if (playing.completed) return;
    playing.completed = true;
    playing.events.record("complete");
    void playing.events.flush();
  }

  video.addEventListener("playing", () => {
    const playing = current;
    if (!playing) return;
    retries = 0;
    if (errors.code() === "NETWORK") errors.hide();
    status.clearError();
    status.set("playing");
    playing.events.resumed();
    playing.next?.setPaused(false);
    if (!playing.started) {
      playing.started = true;
      playing.events.record("start");
      void playing.events.flush();
      // The first frame's report goes now, not a minute later: start-up is what operators watch most.
      setTimeout(() => playing.qoe.tick(), 500);
      // Trick-play thumbnails are for seeking, which comes later: after the first frame, so
      // their requests never compete with the first segments.
      void playing.trickplay.load(playing.session.trickPlayUrl);
    }
  });
  video.addEventListener("play", () => {
    if (autoplayOutcome === "blocked") current?.qoe.pressed();
  });
  video.addEventListener("pause", () => {
    const playing = current;
    if (!playing || video.ended || playing.ended || playing.left) return;
    status.set("paused");
    playing.next?.setPaused(true);
    if (playing.started) playing.events.record("pause");
  });
  video.addEventListener("waiting", () => {
    if (!current || video.paused) return;
    status.set("loading");
    current.events.stalled();
  });
  video.addEventListener("timeupdate", () => {
    const playing = current;
    if (!playing) return;
    const duration = controls.duration();
    const t = video.currentTime;
    // Finished at the credits (where they are known), else at 95 %.
    const credits = playing.skip.creditsStartSec;
    if (playing.started && duration > 0 && (t / duration >= 0.95 || (credits !== null && t >= credits))) complete(playing);
    playing.skip.update(t, duration);
    playing.next?.update(t, duration, video.paused);
  });
  video.addEventListener("seeking", () => current?.skip.seeking());
  els.skipSegment.addEventListener("click", () => current?.skip.skip(video.currentTime));
  video.addEventListener("ended", () => {
    const playing = current;
    if (!playing) return;
    status.set("ended");
    complete(playing);
    playing.next?.ended();
  });

  /** Leaving: the last events and the stream's DELETE, both keepalive (they finish after the page is gone). */
  function leave(): void {
    const playing = current;
    if (!playing || playing.left) return;
    playing.left = true;
    playing.heartbeats.stop();
    if (playing.started && !playing.ended) playing.events.record("stop");
    playing.events.flushOnLeave();
    playing.qoe.beacon(true);
    if (!playing.ended) releaseStream(api, playing.session.id);
  }

  /** On to the next episode: its start must find this screen free, so the DELETE is awaited (briefly). */
  async function leaveFor(href: string): Promise<void> {
    const playing = current;
    if (playing && !playing.left) {
      playing.left = true;
      playing.heartbeats.stop();
      playing.engine.stop();
      if (playing.started && !playing.ended) playing.events.record("stop");
      playing.events.flushOnLeave();
      playing.qoe.beacon(true);
      if (!playing.ended) await releaseStreamAndWait(api, playing.session.id, 2000);
    }
    location.assign(href);
  }

  addEventListener("pagehide", leave);
  // Back from the back/forward cache: the stream was released on the way out; start afresh.
  addEventListener("pageshow", (e) => {
    if (e.persisted && current?.left) location.reload();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "hidden") return;
    void current?.events.flush();
    current?.qoe.beacon(false);
  });
  addEventListener("online", () => {
    if (errors.code() === "NETWORK") retry();
  });

  // For the browser tests and for debugging: what the player did, read-only.
  Object.defineProperty(window, "__marqueePlayer", {
    value: Object.freeze({
      state: () => ({
        status: status.state,
        error: errors.code(),
        lastProblem,
        playbackSessionId: current?.session.id ?? null,
        token: current?.tokens.token ?? null,
        rendition: current?.rendition ?? null,
        heartbeatsSent: current?.heartbeatsSent ?? 0,
        events: current ? [...current.events.log] : [],
        trickplayCues: current?.trickplay.cueCount ?? 0,
        engine: current?.engine.kind ?? null,
        firstFrameBy: current?.engine.firstFrameBy() ?? null,
        engineReady: current?.engine.ready() ?? false,
        prefetched: current?.engine.prefetched() ?? 0,
        live: current?.session.live ?? false,
        liveLatencySec: current?.engine.liveLatencySec() ?? null,
        autoplay: autoplayOutcome,
        qoeReports: current ? current.qoe.made.map((r) => ({ ...r })) : [],
        skip: { visible: current?.skip.visible ?? null, segments: current?.session.skipSegments ?? [], autoSkip: current?.session.autoSkip ?? false },
      }),
    }),
  });

  if (handoff?.session) {
    // Pressed on the title page: the play delay counts from the press, which began this
    // page's navigation (time origin 0), and no POST stands before the first segments.
    beganAt = 0;
    play(handoff.session);
    confirmPrepared();
  } else {
    // A handoff without its answer: the same clientSessionId makes the server answer (and
    // confirm) the stream the title page started, or start one.
    if (handoff) beganAt = 0;
    void begin();
  }

  /**
   * A prepared lease lives 20 s until confirmed: a heartbeat confirms it, after the first
   * frame (nothing in its way) or after 3 s, whichever comes first.
   */
  function confirmPrepared(): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const confirm = () => {
      clearTimeout(timer);
      video.removeEventListener("playing", confirm);
      void current?.heartbeats.beatNow();
    };
    timer = setTimeout(confirm, 3000);
    video.addEventListener("playing", confirm);
  }
}

run();
