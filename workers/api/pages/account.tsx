// The account: its plan, its signed-in devices and the streams playing now (each can be
// ended), and signing out everywhere. web/scripts/app/account.ts acts through the JSON
// API and redraws the lists from GET /v1/auth/sessions and GET /v1/playback/sessions.
import type { Plan } from "../../../lib/plans.ts";
import { Layout, pageTitle } from "./layout.tsx";
import type { PageMember, PageSession } from "./page-types.ts";

/** As GET /v1/auth/sessions answers a session. */
export type DeviceView = { id: string; kind: "web" | "device"; deviceName: string; lastSeenAt: string; current: boolean };
/** As GET /v1/playback/sessions answers a stream. */
export type StreamView = { id: string; deviceName: string; profileName: string; titleName: string; since: string; thisDevice: boolean };

export type SubscriptionView = { status: string; provider: string; currentPeriodEnd: string | null } | null;

const price = (p: Plan) => new Intl.NumberFormat("en-US", { style: "currency", currency: p.currency.toUpperCase() }).format(p.priceCents / 100);
const day = (iso: string) => new Date(iso).toISOString().slice(0, 10);

function PlanSummary(props: { plan: Plan | null; subscription: SubscriptionView }) {
  const { plan, subscription } = props;
  if (!plan) {
    return (
      <div id="plan" class="account-plan" data-plan-id="">
        <p>No plan yet{subscription?.status === "canceled" ? " (your subscription was canceled)" : ""}.</p>
        <a class="button button-primary" href="/plans">
          Choose a plan
        </a>
      </div>
    );
  }
  return (
    <div id="plan" class="account-plan" data-plan-id={plan.id}>
      <p class="account-plan-name">
        <strong>{plan.name}</strong> · {price(plan)} a month
      </p>
      <p class="muted">
        {plan.maxStreams} {plan.maxStreams === 1 ? "screen" : "screens"} at a time, up to {plan.maxHeight}p
        {subscription?.currentPeriodEnd ? ` · renews ${day(subscription.currentPeriodEnd)}` : ""}
      </p>
      {subscription?.status === "past_due" ? (
        <p class="notice" role="status">
          Your last payment did not go through. Update your payment details to keep watching.
        </p>
      ) : null}
      <a class="button button-quiet" href="/plans">
        Change plan
      </a>
    </div>
  );
}

export function DeviceItem(props: { device: DeviceView }) {
  const d = props.device;
  return (
    <li data-session-id={d.id}>
      <span class="item-main">
        {d.deviceName}
        {d.current ? <span class="badge">This device</span> : null}
      </span>
      <span class="item-facts">
        {d.kind === "web" ? "Browser" : "App or TV"} · last used {day(d.lastSeenAt)}
      </span>
      {d.current ? null : (
        <button type="button" class="button button-quiet button-small end-session" data-session-id={d.id}>
          Sign out<span class="visually-hidden"> {d.deviceName}</span>
        </button>
      )}
    </li>
  );
}

export function StreamItem(props: { stream: StreamView }) {
  const s = props.stream;
  return (
    <li data-stream-id={s.id}>
      <span class="item-main">{s.titleName}</span>
      <span class="item-facts">
        {s.profileName} on {s.deviceName}
        {s.thisDevice ? " (this device)" : ""}
      </span>
      <button type="button" class="button button-quiet button-small end-stream" data-stream-id={s.id}>
        End stream<span class="visually-hidden"> {s.titleName} on {s.deviceName}</span>
      </button>
    </li>
  );
}

export function AccountPage(props: { session: PageSession; member: PageMember; subscription: SubscriptionView; devices: DeviceView[] | null; streams: StreamView[] | null }) {
  const { member, devices, streams } = props;
  if (member.profile?.isKids) {
    return (
      <Layout title={pageTitle("Account")} session={props.session} section="account">
        <h1>Account</h1>
        <p class="notice" role="status">
          The account is managed from an adult profile. <a href="/profiles">Switch profile</a>
        </p>
      </Layout>
    );
  }
  return (
    <Layout title={pageTitle("Account")} session={props.session} section="account" bodyClass="page-account">
      <h1>Account</h1>
      <p class="form-error" role="alert" id="account-error" hidden></p>
      <div class="account-grid">
        <section class="panel" aria-labelledby="membership-heading">
          <h2 id="membership-heading">Membership</h2>
          <p class="account-email">{member.email}</p>
          <PlanSummary plan={member.plan} subscription={props.subscription} />
          <p>
            <a href="/profiles">Manage profiles</a>
          </p>
        </section>

        <section class="panel" aria-labelledby="streams-heading">
          <h2 id="streams-heading">Watching now</h2>
          <p class="muted" id="streams-empty" hidden={streams === null || streams.length > 0}>
            Nothing is playing on this account.
          </p>
          {streams === null ? (
            <p class="notice" role="status">
              Active streams are unavailable right now.
            </p>
          ) : null}
          <ul id="streams" class="item-list" role="list">
            {(streams ?? []).map((s) => (
              <StreamItem stream={s} />
            ))}
          </ul>
        </section>

        <section class="panel" aria-labelledby="devices-heading">
          <h2 id="devices-heading">Signed-in devices</h2>
          {devices === null ? (
            <p class="notice" role="status">
              The list of devices is unavailable right now.
            </p>
          ) : null}
          <ul id="devices" class="item-list" role="list">
            {(devices ?? []).map((d) => (
              <DeviceItem device={d} />
            ))}
          </ul>
          <button type="button" id="sign-out-everywhere" class="button button-danger">
            Sign out of every device
          </button>
        </section>
      </div>
    </Layout>
  );
}
