// The sign-up and sign-in forms. web/scripts/app/auth-forms.ts posts them to the JSON API
// (client "web": the session cookie); without a script they post to /signup and /login.
import { MIN_PASSWORD_LENGTH } from "../../../lib/password-policy.ts";
import { Layout, pageTitle } from "./layout.tsx";
import type { PageSession } from "./page-types.ts";

type FormProps = { session: PageSession; error?: string | null; email?: string; next?: string | null };

function FormError(props: { id: string; error?: string | null }) {
  // Always present, so a script can fill it and screen readers announce it.
  return (
    <p class="form-error" role="alert" id={props.id} hidden={!props.error}>
      {props.error ?? ""}
    </p>
  );
}

export function SignupPage(props: FormProps) {
  return (
    <Layout title={pageTitle("Sign up")} session={props.session} section="signup" minimalHeader bodyClass="page-auth">
      <section class="auth-panel" aria-labelledby="signup-heading">
        <h1 id="signup-heading">Create your account</h1>
        <p class="auth-lead">One account, up to five profiles. Choose a plan next.</p>
        <form id="signup-form" class="stack-form" method="post" action="/signup" data-api="/v1/auth/signup" data-next="/">
          <FormError id="signup-error" error={props.error} />
          <div class="field">
            <label for="signup-email">Email</label>
            <input id="signup-email" name="email" type="email" autocomplete="email" required maxlength={254} value={props.email ?? ""} />
          </div>
          <div class="field">
            <label for="signup-password">Password</label>
            <input id="signup-password" name="password" type="password" autocomplete="new-password" required maxlength={128} aria-describedby="signup-password-hint" />
            <p class="field-hint" id="signup-password-hint">
              At least {MIN_PASSWORD_LENGTH} characters. A passphrase of a few words works well.
            </p>
          </div>
          <button type="submit" class="button button-primary button-block">
            Sign up
          </button>
        </form>
        <p class="auth-switch">
          Already have an account? <a href="/login">Sign in</a>
        </p>
      </section>
    </Layout>
  );
}

export function LoginPage(props: FormProps) {
  return (
    <Layout title={pageTitle("Sign in")} session={props.session} section="login" minimalHeader bodyClass="page-auth">
      <section class="auth-panel" aria-labelledby="login-heading">
        <h1 id="login-heading">Sign in</h1>
        <form id="login-form" class="stack-form" method="post" action="/login" data-api="/v1/auth/login" data-next={props.next ?? "/"}>
          <FormError id="login-error" error={props.error} />
          {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
          <div class="field">
            <label for="login-email">Email</label>
            <input id="login-email" name="email" type="email" autocomplete="username" required maxlength={254} value={props.email ?? ""} />
          </div>
          <div class="field">
            <label for="login-password">Password</label>
            <input id="login-password" name="password" type="password" autocomplete="current-password" required maxlength={1024} />
          </div>
          <button type="submit" class="button button-primary button-block">
            Sign in
          </button>
        </form>
        <p class="auth-switch">
          New to Marquee? <a href="/signup">Create an account</a>
        </p>
      </section>
    </Layout>
  );
}
