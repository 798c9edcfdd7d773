// "Who's watching?": entering a profile (POST /v1/profiles/{id}/enter, with its PIN from
// form#pin-form when it has one) and adding one (POST /v1/profiles).
import { api, busy, showError } from "./api.ts";

async function enter(profileId: string, pin?: string) {
  return api("POST", `/v1/profiles/${encodeURIComponent(profileId)}/enter`, pin === undefined ? {} : { pin });
}

function initPicker(): void {
  const dialog = document.querySelector<HTMLDialogElement>("dialog#pin-dialog");
  const pinForm = document.querySelector<HTMLFormElement>("form#pin-form");
  const pinInput = pinForm?.querySelector<HTMLInputElement>("input[name=pin]") ?? null;
  const pinAlert = pinForm?.querySelector<HTMLElement>("[role=alert]") ?? null;
  const pageAlert = document.getElementById("profiles-error");
  let pending: { id: string; opener: HTMLElement } | null = null;

  for (const link of document.querySelectorAll<HTMLAnchorElement>("a.profile[data-profile-id]")) {
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const id = link.dataset.profileId!;
      showError(pageAlert, null);
      if (link.dataset.hasPin === "true" && dialog && pinForm && pinInput) {
        pending = { id, opener: link };
        const heading = dialog.querySelector("h2");
        if (heading) heading.textContent = `Enter ${link.dataset.profileName ?? "the profile"}'s PIN`;
        pinInput.value = "";
        showError(pinAlert, null);
        dialog.showModal();
        pinInput.focus();
        return;
      }
      link.setAttribute("aria-busy", "true");
      const answer = await enter(id);
      link.removeAttribute("aria-busy");
      if (answer.ok) location.assign("/");
      else showError(pageAlert, answer.message);
    });
  }

  if (!dialog || !pinForm || !pinInput) return;
  dialog.addEventListener("close", () => {
    pending?.opener.focus();
    pending = null;
  });
  document.getElementById("pin-cancel")?.addEventListener("click", () => dialog.close());
  pinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pending) return;
    const pin = pinInput.value.trim();
    if (!/^\d{4}$/.test(pin)) {
      showError(pinAlert, "A PIN is 4 digits.");
      pinInput.focus();
      return;
    }
    const answer = await busy(pinForm.querySelector<HTMLButtonElement>("button[type=submit]"), () => enter(pending!.id, pin));
    if (answer.ok) {
      location.assign("/");
      return;
    }
    showError(pinAlert, answer.code === "FORBIDDEN" ? "That PIN is not right. Try again." : answer.message);
    pinInput.select();
  });
}

/** A colour the account's profiles do not use yet (avatar-1 … avatar-6, see app.css). */
function nextAvatar(): string {
  const used = new Set([...document.querySelectorAll<HTMLElement>("a.profile .avatar")].map((a) => /avatar-(\d+)/.exec(a.className)?.[1]));
  for (let i = 1; i <= 6; i++) if (!used.has(String(i))) return `avatar-${i}`;
  return `avatar-${(used.size % 6) + 1}`;
}

function initNewProfile(): void {
  const form = document.querySelector<HTMLFormElement>("form#new-profile");
  if (!form) return;
  const alert = form.querySelector<HTMLElement>("[role=alert]");
  form.noValidate = true;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim();
    const isKids = (form.elements.namedItem("isKids") as HTMLInputElement).checked;
    const pin = (form.elements.namedItem("pin") as HTMLInputElement).value.trim();
    if (!name) {
      showError(alert, "Give the profile a name.");
      (form.elements.namedItem("name") as HTMLInputElement).focus();
      return;
    }
    if (pin && !/^\d{4}$/.test(pin)) {
      showError(alert, "A PIN is 4 digits, or leave it empty.");
      (form.elements.namedItem("pin") as HTMLInputElement).focus();
      return;
    }
    showError(alert, null);
    const answer = await busy(form.querySelector<HTMLButtonElement>("button[type=submit]"), () => api("POST", "/v1/profiles", { name, isKids, avatar: nextAvatar(), ...(pin ? { pin } : {}) }));
    if (answer.ok) location.reload();
    else showError(alert, answer.message);
  });
}

export function initProfiles(): void {
  initPicker();
  initNewProfile();
}
