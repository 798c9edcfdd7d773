// Keyboard shortcuts: space play/pause, ←/→ back/forward 10 s, f full screen, m mute,
// s skip the intro or recap (while its button shows).
// Typing in a select or text field is left alone; on the seek bar the arrows jump 10 s
// (not the range's own small step) and space still plays/pauses.

export type KeyActions = {
  togglePlay(): void;
  seekBy(seconds: number): void;
  toggleFullscreen(): void;
  toggleMute(): void;
  /** Skip intro / Skip recap, when offered. */
  skip(): void;
  /** Any key: the controls show again. */
  activity(): void;
};

function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return true;
  return target instanceof HTMLInputElement && target.type !== "range" && target.type !== "checkbox" && target.type !== "button";
}

export function wireKeyboard(actions: KeyActions): void {
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typingInto(e.target)) return;
    actions.activity();
    let handled = true;
    switch (e.key) {
      case " ":
      case "Spacebar":
      case "k":
        if (!e.repeat) actions.togglePlay();
        break;
      case "ArrowLeft":
        actions.seekBy(-10);
        break;
      case "ArrowRight":
        actions.seekBy(10);
        break;
      case "f":
      case "F":
        if (!e.repeat) actions.toggleFullscreen();
        break;
      case "m":
      case "M":
        if (!e.repeat) actions.toggleMute();
        break;
      case "s":
      case "S":
        if (!e.repeat) actions.skip();
        break;
      default:
        handled = false;
    }
    // Also keeps a focused button from "clicking" on space, and the page from scrolling.
    if (handled) e.preventDefault();
  });
  // Buttons activate on space's keyup: that would toggle twice.
  document.addEventListener("keyup", (e) => {
    if ((e.key === " " || e.key === "Spacebar") && e.target instanceof HTMLButtonElement) e.preventDefault();
  });
}
