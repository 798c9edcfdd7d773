// The web app's client entry, on every page. Pages work as documents without it; each
// part below adds what needs a script, and only where its elements are on the page.
import { initAccount } from "./app/account.ts";
import { initAuthForms } from "./app/auth-forms.ts";
import { initPlans } from "./app/plans.ts";
import { initProfiles } from "./app/profiles.ts";
import { initRows } from "./app/rows.ts";
import { initSearch } from "./app/search.ts";
import { initSignOut } from "./app/sign-out.ts";
import { initTitleActions } from "./app/title-actions.ts";
import { initPlayOnIntent } from "./play-on-intent/prepare.ts";

document.documentElement.classList.add("js");

// A module script runs after the document is parsed: every element is already there.
for (const init of [initSignOut, initAuthForms, initPlans, initProfiles, initRows, initTitleActions, initPlayOnIntent, initSearch, initAccount]) {
  try {
    init();
  } catch (err) {
    // One part failing must not take the others with it.
    console.error(err);
  }
}
