// Choosing a plan: web/scripts/app/plans.ts posts the choice to POST /v1/billing/checkout
// (the dev provider answers "active" at once; Stripe answers its Checkout page's URL).
import { plans, type Plan } from "../../../lib/plans.ts";
import { Layout, pageTitle } from "./layout.tsx";
import type { PageMember, PageSession } from "./page-types.ts";

const price = (p: Plan) => new Intl.NumberFormat("en-US", { style: "currency", currency: p.currency.toUpperCase() }).format(p.priceCents / 100);

const resolution: Record<number, string> = { 720: "HD (720p)", 1080: "Full HD (1080p)", 2160: "4K Ultra HD (2160p)" };

export function PlansPage(props: { session: PageSession; member: PageMember; checkout?: "pending" | "canceled" | null }) {
  const current = props.member.plan?.id ?? null;
  const kids = props.member.profile?.isKids ?? false;
  return (
    <Layout title={pageTitle("Choose a plan")} session={props.session} section="plans" bodyClass="page-plans">
      <section aria-labelledby="plans-heading">
        <h1 id="plans-heading">{current ? "Change your plan" : "Choose the plan that's right for you"}</h1>
        <p class="page-lead">Watch all you want. Change or cancel your plan any time.</p>
        {props.checkout === "pending" ? (
          <p class="banner" role="status">
            Thanks! Your payment is being confirmed; your plan will be active in a moment. <a href="/plans">Refresh</a>
          </p>
        ) : props.checkout === "canceled" ? (
          <p class="banner" role="status">
            Checkout was canceled. Your plan has not changed.
          </p>
        ) : null}
        {kids ? (
          <p class="notice" role="status">
            A kids profile cannot change the plan. <a href="/profiles">Switch profile</a>
          </p>
        ) : null}
        <p class="form-error" role="alert" id="plans-error" hidden></p>
        <ul class="plan-list" role="list">
          {plans.map((p) => (
            <li class={p.id === current ? "plan plan-current" : "plan"} data-plan-id={p.id}>
              <h2 id={`plan-${p.id}-name`}>{p.name}</h2>
              <p class="plan-price">
                <span class="plan-amount">{price(p)}</span> / month
              </p>
              <ul class="plan-facts">
                <li>{resolution[p.maxHeight] ?? `${p.maxHeight}p`}</li>
                <li>
                  {p.maxStreams} {p.maxStreams === 1 ? "screen" : "screens"} at a time
                </li>
                <li>Every title, no ads</li>
              </ul>
              <button type="button" class="button button-primary button-block" data-plan={p.id} aria-describedby={`plan-${p.id}-name`} disabled={kids || p.id === current}>
                {p.id === current ? "Current plan" : current ? `Switch to ${p.name}` : `Choose ${p.name}`}
              </button>
            </li>
          ))}
        </ul>
        {current ? (
          <p>
            <a href="/">Back to watching</a>
          </p>
        ) : null}
      </section>
    </Layout>
  );
}
