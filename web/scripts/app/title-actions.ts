// The title page's toggles: My List (PUT/DELETE /v1/profiles/{id}/list/{titleId}) and the
// thumbs (PUT /v1/profiles/{id}/ratings/{titleId}), for the profile entered on this device.
// aria-pressed says the state; it changes only once the API has agreed. And Watch together:
// POST /v1/parties, then the party's invite link, which opens the player in the party.
import { api, busy, meta, showError } from "./api.ts";

const isPressed = (b: HTMLButtonElement) => b.getAttribute("aria-pressed") === "true";
const press = (b: HTMLButtonElement, on: boolean) => b.setAttribute("aria-pressed", on ? "true" : "false");

export function initTitleActions(): void {
  const article = document.querySelector<HTMLElement>("[data-title-page]");
  const profileId = meta("profile-id");
  if (!article || !profileId) return;
  const titleId = article.dataset.titlePage!;
  const base = `/v1/profiles/${encodeURIComponent(profileId)}`;
  const alert = document.getElementById("title-error");

  const together = document.querySelector<HTMLButtonElement>("button#watch-together");
  together?.addEventListener("click", async () => {
    const answer = await busy(together, () => api<{ partyId: string }>("POST", "/v1/parties", { titleId, profileId }));
    if (!answer.ok) {
      showError(alert, answer.message);
      return;
    }
    location.assign(`/party/${encodeURIComponent(answer.data.partyId)}`);
  });

  const myList = document.querySelector<HTMLButtonElement>("button#my-list");
  myList?.addEventListener("click", async () => {
    const on = !isPressed(myList);
    const answer = await busy(myList, () => api(on ? "PUT" : "DELETE", `${base}/list/${encodeURIComponent(titleId)}`));
    // 404 on removing: it was not in the list after all, which is what was asked for.
    if (answer.ok || (!on && answer.status === 404)) {
      press(myList, on);
      showError(alert, null);
    } else {
      showError(alert, answer.message);
    }
  });

  const up = document.querySelector<HTMLButtonElement>("button#thumbs-up");
  const down = document.querySelector<HTMLButtonElement>("button#thumbs-down");
  for (const button of [up, down]) {
    button?.addEventListener("click", async () => {
      const rating = isPressed(button) ? "none" : (button.dataset.rating as "up" | "down");
      const answer = await busy(button, () => api<{ rating: string }>("PUT", `${base}/ratings/${encodeURIComponent(titleId)}`, { rating }));
      if (!answer.ok) {
        showError(alert, answer.message);
        return;
      }
      showError(alert, null);
      if (up) press(up, answer.data.rating === "up");
      if (down) press(down, answer.data.rating === "down");
    });
  }
}
