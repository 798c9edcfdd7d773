// The header's sign-out control: POST /v1/auth/logout (the form posts to /logout when no
// script runs), then the signed-out front page.
import { api, busy } from "./api.ts";

export function initSignOut(): void {
  const form = document.querySelector<HTMLFormElement>("form#sign-out-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await busy(form.querySelector("button"), () => api("POST", "/v1/auth/logout"));
    // 401: the session had already ended; either way this device is signed out.
    if (answer.ok || answer.status === 401) location.assign("/");
    else form.submit();
  });
}
