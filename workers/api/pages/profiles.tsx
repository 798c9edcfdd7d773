// "Who's watching?": the account's profiles (entering one, with its PIN if it has one, is
// POST /v1/profiles/{id}/enter from web/scripts/app/profiles.ts) and adding a profile.
import { MAX_PROFILES } from "../profiles/profiles.ts";
import { LockIcon } from "./icons.tsx";
import { Avatar, Layout, pageTitle } from "./layout.tsx";
import type { PageMember, PageSession } from "./page-types.ts";

export type ProfileView = { id: string; name: string; avatar: string; isKids: boolean; hasPin: boolean; autoSkipIntros: boolean };

export function ProfilesPage(props: { session: PageSession; member: PageMember; profiles: ProfileView[]; error?: string | null }) {
  const { member, profiles } = props;
  const canAdd = !(member.profile?.isKids ?? false) && profiles.length < MAX_PROFILES;
  const current = profiles.find((p) => p.id === member.profile?.id);
  return (
    <Layout title={pageTitle("Who's watching?")} session={props.session} section="profiles" bodyClass="page-profiles">
      <section class="profiles-picker" aria-labelledby="profiles-heading">
        <h1 id="profiles-heading">Who's watching?</h1>
        <ul class="profile-list" role="list">
          {profiles.map((p) => (
            <li>
              <a
                class="profile"
                href={`/profiles?profile=${encodeURIComponent(p.id)}`}
                data-profile-id={p.id}
                data-profile-name={p.name}
                data-has-pin={p.hasPin ? "true" : "false"}
                aria-current={member.profile?.id === p.id ? "true" : undefined}
              >
                <Avatar avatar={p.avatar} name={p.name} />
                <span class="profile-name">{p.name}</span>
                {p.isKids ? <span class="badge">Kids</span> : null}
                {p.hasPin ? (
                  <span class="badge badge-lock">
                    <LockIcon />
                    <span class="visually-hidden">PIN required</span>
                  </span>
                ) : null}
              </a>
            </li>
          ))}
        </ul>
        <p class="form-error" role="alert" id="profiles-error" hidden></p>
      </section>

      <dialog id="pin-dialog" class="pin-dialog" aria-labelledby="pin-heading">
        <form id="pin-form" class="stack-form" method="dialog">
          <h2 id="pin-heading">Enter the profile's PIN</h2>
          <p class="form-error" role="alert" id="pin-error" hidden></p>
          <div class="field">
            <label for="pin-input">PIN</label>
            <input id="pin-input" name="pin" type="password" inputmode="numeric" pattern="[0-9]{4}" maxlength={4} autocomplete="off" required />
          </div>
          <p class="form-buttons">
            <button type="submit" class="button button-primary">
              Continue
            </button>
            <button type="button" class="button button-quiet" id="pin-cancel">
              Cancel
            </button>
          </p>
        </form>
      </dialog>

      {current ? (
        <section class="playback-settings" aria-labelledby="playback-settings-heading">
          <h2 id="playback-settings-heading">Playback settings for {current.name}</h2>
          <form id="playback-settings" class="stack-form inline-form" method="post" action="/profiles/playback">
            <input type="hidden" name="csrf" value={member.csrfToken} />
            <div class="field field-check">
              <input id="auto-skip-intros" name="autoSkipIntros" type="checkbox" value="true" checked={current.autoSkipIntros} />
              <label for="auto-skip-intros">Skip intros and recaps automatically</label>
            </div>
            <button type="submit" class="button">
              Save
            </button>
          </form>
        </section>
      ) : null}

      {canAdd ? (
        <section class="new-profile" aria-labelledby="new-profile-heading">
          <h2 id="new-profile-heading">Add a profile</h2>
          <form id="new-profile" class="stack-form inline-form" method="post" action="/profiles">
            <p class="form-error" role="alert" id="new-profile-error" hidden={!props.error}>
              {props.error ?? ""}
            </p>
            <input type="hidden" name="csrf" value={member.csrfToken} />
            <div class="field">
              <label for="new-profile-name">Name</label>
              <input id="new-profile-name" name="name" type="text" required maxlength={50} autocomplete="off" />
            </div>
            <div class="field field-check">
              <input id="new-profile-kids" name="isKids" type="checkbox" value="true" />
              <label for="new-profile-kids">Kids profile (only titles for children)</label>
            </div>
            <div class="field">
              <label for="new-profile-pin">PIN (optional)</label>
              <input id="new-profile-pin" name="pin" type="password" inputmode="numeric" pattern="[0-9]{4}" maxlength={4} autocomplete="new-password" aria-describedby="new-profile-pin-hint" />
              <p class="field-hint" id="new-profile-pin-hint">
                Four digits, asked for whenever this profile is entered.
              </p>
            </div>
            <button type="submit" class="button button-primary">
              Add profile
            </button>
          </form>
        </section>
      ) : (
        <p class="notice">{member.profile?.isKids ? "A kids profile cannot add profiles." : `An account has at most ${MAX_PROFILES} profiles.`}</p>
      )}
    </Layout>
  );
}
