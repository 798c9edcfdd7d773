// Choosing a plan: POST /v1/billing/checkout. The dev provider answers "active" at once
// (on to "/", then "Who's watching?"); Stripe answers the URL of its Checkout page.
import { api, busy, showError } from "./api.ts";

type Checkout = { status: "active"; planId: string } | { url: string };

export function initPlans(): void {
  const buttons = document.querySelectorAll<HTMLButtonElement>("button[data-plan]");
  if (buttons.length === 0) return;
  const alert = document.getElementById("plans-error");
  for (const button of buttons) {
    button.addEventListener("click", async () => {
      showError(alert, null);
      const answer = await busy(button, () => api<Checkout>("POST", "/v1/billing/checkout", { planId: button.dataset.plan }));
      if (!answer.ok) {
        showError(alert, answer.message);
        return;
      }
      if ("url" in answer.data && /^https:\/\//.test(answer.data.url)) location.assign(answer.data.url);
      else location.assign("/");
    });
  }
}
