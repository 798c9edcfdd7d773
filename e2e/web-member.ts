// A member made the way a viewer becomes one: the sign-up form, a plan, the first profile,
// landing on home. For browser tests and benches that need a signed-in page and do not
// test those pages themselves (home.test.ts and web-app.test.ts do).
import type { Page } from "playwright-core";

export const WEB_PASSWORD = "a long and unusual passphrase";

export async function joinThroughThePages(page: Page, baseUrl: string, member: { email: string; plan: "basic" | "standard" | "premium" }): Promise<void> {
  await page.goto(`${baseUrl}/signup`);
  await page.fill("form#signup-form input[name=email]", member.email);
  await page.fill("form#signup-form input[name=password]", WEB_PASSWORD);
  await page.click("form#signup-form button[type=submit]");
  await page.waitForURL(/\/plans$/);
  await page.click(`button[data-plan=${member.plan}]`);
  await page.waitForURL(/\/profiles$/);
  await page.locator("a.profile").first().click();
  await page.waitForURL(`${baseUrl}/`);
}
