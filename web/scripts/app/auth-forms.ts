// The sign-up and sign-in forms: posted to the JSON API with client "web" (the server sets
// the HttpOnly session cookie), then on to the form's data-next: the page that sent the
// member to sign in, or "/", which sends them where they belong next (a plan, "Who's
// watching?", or home). Errors go to the form's [role=alert].
import { api, busy, showError } from "./api.ts";

export function initAuthForms(): void {
  for (const form of document.querySelectorAll<HTMLFormElement>("form#signup-form, form#login-form")) {
    const url = form.dataset.api;
    if (!url) continue;
    const alert = form.querySelector<HTMLElement>("[role=alert]");
    // The script reports every problem in the alert, so screen readers hear it too.
    form.noValidate = true;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const email = (form.elements.namedItem("email") as HTMLInputElement).value.trim();
      const password = (form.elements.namedItem("password") as HTMLInputElement).value;
      if (!email || !password) {
        showError(alert, "Enter your email address and a password.");
        (form.elements.namedItem(email ? "password" : "email") as HTMLInputElement).focus();
        return;
      }
      showError(alert, null);
      const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
      const answer = await busy(button, () => api("POST", url, { email, password, client: "web" }));
      if (answer.ok) {
        // The server checked data-next is a path of this site; "/" sends the member on from there.
        location.assign(form.dataset.next?.startsWith("/") && !form.dataset.next.startsWith("//") ? form.dataset.next : "/");
        return;
      }
      showError(alert, answer.message);
    });
  }
}
