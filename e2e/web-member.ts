// A member made the way a viewer becomes one: the sign-up form, a plan, the first profile,
// landing on home. For browser tests and benches that need a signed-in page and do not
// test those pages themselves (home.test.ts and web-app.test.ts do).
import type { Page } from "playwright-core";
import { simulatedClient } from "../test-support/simulated-clients.ts";

export const WEB_PASSWORD = "a long and unusual passphrase";

/**
 * Each sign-up from a simulated client of its own (test-support/simulated-clients.ts):
 * sign-ups are throttled at 10 per client an hour, and a run of the browser tests makes
 * more members than that. The upper half of the range, from a random start, so runs and
 * the tools' small client numbers do not meet.
 */
let nextClient = Math.floor(Math.random() * 0x10000);

export async function joinThroughThePages(page: Page, baseUrl: string, member: { email: string; plan: "basic" | "standard" | "premium" }): Promise<void> {
  await page.goto(`${baseUrl}/signup`);
  await page.fill("form#signup-form input[name=email]", member.email);
  await page.fill("form#signup-form input[name=password]", WEB_PASSWORD);
  await page.setExtraHTTPHeaders(simulatedClient(0x10000 | (nextClient++ & 0xffff)));
  await page.click("form#signup-form button[type=submit]");
  await page.waitForURL(/\/plans$/);
  await page.setExtraHTTPHeaders({});
  await page.click(`button[data-plan=${member.plan}]`);
  await page.waitForURL(/\/profiles$/);
  await page.locator("a.profile").first().click();
  await page.waitForURL(`${baseUrl}/`);
}
