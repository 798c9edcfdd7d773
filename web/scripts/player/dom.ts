// The watch page's elements (workers/api/pages/watch.tsx), found once by id.

function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the watch page has no #${id}`);
  return el;
}

export function playerElements() {
  return {
    main: byId("main", HTMLElement),
    shell: byId("player-shell", HTMLDivElement),
    video: byId("player", HTMLVideoElement),
    title: byId("player-title", HTMLElement),
    status: byId("player-status", HTMLElement),
    error: byId("player-error", HTMLElement),
    controls: byId("controls", HTMLDivElement),
    seek: byId("seek", HTMLInputElement),
    time: byId("time", HTMLElement),
    trickplay: byId("trickplay", HTMLDivElement),
    trickplayImage: byId("trickplay-image", HTMLDivElement),
    trickplayTime: byId("trickplay-time", HTMLElement),
    playPause: byId("play-pause", HTMLButtonElement),
    back10: byId("back-10", HTMLButtonElement),
    forward10: byId("forward-10", HTMLButtonElement),
    mute: byId("mute", HTMLButtonElement),
    fullscreen: byId("fullscreen", HTMLButtonElement),
    rendition: byId("rendition", HTMLElement),
    quality: byId("quality", HTMLSelectElement),
    subtitles: byId("subtitles", HTMLSelectElement),
    nextUp: byId("next-up", HTMLDivElement),
    nextEpisode: byId("next-episode", HTMLAnchorElement),
    nextEpisodeName: byId("next-episode-name", HTMLElement),
    nextEpisodeCountdown: byId("next-episode-countdown", HTMLElement),
    nextEpisodeCancel: byId("next-episode-cancel", HTMLButtonElement),
    skipSegment: byId("skip-segment", HTMLButtonElement),
    skipToast: byId("skip-toast", HTMLElement),
    watchTogether: byId("watch-together", HTMLButtonElement),
  };
}

export type PlayerElements = ReturnType<typeof playerElements>;

/** A new element with text (never HTML: names come from the api and other devices). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; text?: string; attrs?: Record<string, string> } = {}, children: Node[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function meta(name: string): string | null {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content || null;
}
