// The operators' QoE dashboard, /admin/qoe: server-rendered (no script), under the pages'
// strict CSP, behind the admin token (HTTP Basic: the browser asks). Over the last N hours
// (`?hours=`, 1 to 744, default 24): play delay p50/p95, rebuffer ratio, error rate and
// the bitrate mix over time, the range's totals against the targets of docs/qoe.md, and
// the titles with the worst start-up.
import { Hono } from "hono";
import manifest from "../../../web/dist/manifest.json";
import { HEIGHT_CLASS_LABELS } from "../../../lib/qoe.ts";
import { requireAdminPage } from "../admin/require-admin.ts";
import { SiteIconLink } from "../pages/icons.tsx";
import { securityHeaders } from "../pages/security-headers.ts";
import type { PageEnv } from "../pages/page-types.ts";
import { qoeByGroup, qoeSeries, type QoeGroupRow, type QoeSummary } from "./read-qoe.ts";
import { LineChart, StackedShareChart } from "./svg-charts.tsx";

/** What we hold ourselves to (docs/qoe.md): the figures Conviva and Akamai cite. */
export const TARGETS = { playDelayP95Ms: 2000, rebufferRatio: 0.005 };
const STEPS_MIN = [1, 5, 15, 30, 60, 180, 360, 720, 1440];
const MAX_POINTS = 96;
const HEIGHT_COLORS = ["#6b6b7a", "#4f8ef7", "#2fbf71", "#f5b841", "#e50914"];

export function stepMinutesFor(rangeMinutes: number): number {
  return STEPS_MIN.find((s) => rangeMinutes / s <= MAX_POINTS) ?? 1440;
}

const pct = (v: number | null, digits = 2) => (v === null ? "–" : `${(v * 100).toFixed(digits)}%`);
const ms = (v: number | null) => (v === null ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);

function Verdict(props: { ok: boolean | null }) {
  if (props.ok === null) return <span class="qoe-verdict">no data</span>;
  return <span class={props.ok ? "qoe-verdict qoe-ok" : "qoe-verdict qoe-bad"}>{props.ok ? "on target" : "off target"}</span>;
}

function Totals(props: { total: QoeSummary | null }) {
  const t = props.total;
  return (
    <dl class="qoe-totals">
      <div>
        <dt>Starts</dt>
        <dd>{t?.starts ?? 0}</dd>
      </div>
      <div>
        <dt>Play delay p50 / p95</dt>
        <dd>
          {ms(t?.playDelayMs.p50 ?? null)} / {ms(t?.playDelayMs.p95 ?? null)} <Verdict ok={t?.playDelayMs.p95 == null ? null : t.playDelayMs.p95 <= TARGETS.playDelayP95Ms} />
        </dd>
      </div>
      <div>
        <dt>Rebuffer ratio</dt>
        <dd>
          {pct(t?.rebufferRatio ?? null, 3)} <Verdict ok={t?.rebufferRatio == null ? null : t.rebufferRatio < TARGETS.rebufferRatio} />
        </dd>
      </div>
      <div>
        <dt>Exits before video</dt>
        <dd>{t?.exitsBeforeVideo ?? 0}</dd>
      </div>
      <div>
        <dt>Error rate</dt>
        <dd>{pct(t?.errorRate ?? null)}</dd>
      </div>
      <div>
        <dt>Average bitrate</dt>
        <dd>{t?.avgBitrateKbps == null ? "–" : `${t.avgBitrateKbps} kbit/s`}</dd>
      </div>
    </dl>
  );
}

function WorstTitles(props: { rows: QoeGroupRow[] }) {
  return (
    <table class="qoe-table">
      <caption>Titles with the worst start-up (p95 play delay), at most 10</caption>
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col">Starts</th>
          <th scope="col">Play delay p50</th>
          <th scope="col">p95</th>
          <th scope="col">Rebuffer ratio</th>
          <th scope="col">Exits before video</th>
          <th scope="col">Error rate</th>
          <th scope="col">Avg bitrate</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.length === 0 ? (
          <tr>
            <td colspan={8}>No reports in this range.</td>
          </tr>
        ) : (
          props.rows.map((r) => (
            <tr data-title-id={r.key}>
              <th scope="row">{r.label}</th>
              <td>{r.starts}</td>
              <td>{ms(r.playDelayMs.p50)}</td>
              <td>{ms(r.playDelayMs.p95)}</td>
              <td>{pct(r.rebufferRatio, 3)}</td>
              <td>{r.exitsBeforeVideo}</td>
              <td>{pct(r.errorRate)}</td>
              <td>{r.avgBitrateKbps === null ? "–" : `${r.avgBitrateKbps} kbit/s`}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export const qoeDashboardRoutes = new Hono<PageEnv>();

qoeDashboardRoutes.get("/admin/qoe", securityHeaders, requireAdminPage, async (c) => {
  const hoursParam = c.req.query("hours");
  const hours = hoursParam !== undefined && /^[1-9][0-9]{0,2}$/.test(hoursParam) ? Math.min(744, Number(hoursParam)) : 24;
  const to = Date.now();
  const from = to - hours * 3600_000;
  const stepMinutes = stepMinutesFor(hours * 60);
  const [series, [total], titles] = await Promise.all([
    qoeSeries(c.env.DB, from, to, stepMinutes),
    qoeSeries(c.env.DB, from, to, hours * 60 + 1),
    qoeByGroup(c.env.DB, from, to, "title"),
  ]);
  const worst = titles
    .filter((t) => t.starts > 0)
    .sort((a, b) => (b.playDelayMs.p95 ?? 0) - (a.playDelayMs.p95 ?? 0) || b.starts - a.starts)
    .slice(0, 10);
  const at = (p: { at: string }) => Date.parse(p.at);
  const css = manifest["app.css"];
  return c.html(
    "<!doctype html>" +
      (
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>Quality of experience · Marquee admin</title>
            <SiteIconLink />
            <link rel="stylesheet" href={css} />
          </head>
          <body class="admin">
            <main class="qoe-dashboard" id="main" data-step-minutes={String(stepMinutes)}>
              <h1>Quality of experience</h1>
              <p class="qoe-range">
                Last {hours} hours ({new Date(from).toISOString().slice(0, 16)}Z to {new Date(to).toISOString().slice(0, 16)}Z), in steps of {stepMinutes} min.{" "}
                <a href="/admin/qoe?hours=1">1 h</a> · <a href="/admin/qoe?hours=24">24 h</a> · <a href="/admin/qoe?hours=168">7 days</a> · <a href="/admin/qoe?hours=720">30 days</a>
              </p>
              <Totals total={total ?? null} />
              <section class="qoe-charts" aria-label="Charts">
                <figure>
                  <LineChart
                    title="Play delay (Play to first frame)"
                    from={from}
                    to={to}
                    yMin={TARGETS.playDelayP95Ms}
                    yFormat={(v) => `${(v / 1000).toFixed(1)} s`}
                    series={[
                      { label: "p50", color: "#4f8ef7", points: series.map((p) => ({ x: at(p), y: p.playDelayMs.p50 })) },
                      { label: "p95", color: "#f5b841", points: series.map((p) => ({ x: at(p), y: p.playDelayMs.p95 })) },
                      { label: "target p95", color: "#6b6b7a", points: [{ x: from, y: TARGETS.playDelayP95Ms }, { x: to, y: TARGETS.playDelayP95Ms }] },
                    ]}
                  />
                  <figcaption>Play delay p50 and p95, from the histogram of each step.</figcaption>
                </figure>
                <figure>
                  <LineChart
                    title="Rebuffer ratio"
                    from={from}
                    to={to}
                    yMin={TARGETS.rebufferRatio * 2}
                    yFormat={(v) => `${(v * 100).toFixed(2)}%`}
                    series={[
                      { label: "rebuffer", color: "#e50914", points: series.map((p) => ({ x: at(p), y: p.rebufferRatio })) },
                      { label: "target", color: "#6b6b7a", points: [{ x: from, y: TARGETS.rebufferRatio }, { x: to, y: TARGETS.rebufferRatio }] },
                    ]}
                  />
                  <figcaption>Stalled time ÷ (playing + stalled time).</figcaption>
                </figure>
                <figure>
                  <StackedShareChart
                    title="Bitrate mix (playing time by resolution)"
                    from={from}
                    to={to}
                    stepMs={stepMinutes * 60_000}
                    bars={series.map((p) => ({ x: at(p), parts: p.playingMsByHeight }))}
                    labels={[...HEIGHT_CLASS_LABELS]}
                    colors={HEIGHT_COLORS}
                  />
                  <figcaption>Share of playing time at each resolution class.</figcaption>
                </figure>
                <figure>
                  <LineChart
                    title="Error rate"
                    from={from}
                    to={to}
                    yMin={0.01}
                    yFormat={(v) => `${(v * 100).toFixed(1)}%`}
                    series={[{ label: "fatal errors ÷ attempts", color: "#ff6b6b", points: series.map((p) => ({ x: at(p), y: p.errorRate })) }]}
                  />
                  <figcaption>Fatal errors per attempted start.</figcaption>
                </figure>
              </section>
              <WorstTitles rows={worst} />
              <p class="qoe-more">
                The same figures as JSON: <code>GET /v1/admin/qoe?groupBy=title|country|device|day</code>; one viewer's CMCD timeline: <code>GET /v1/admin/qoe/sessions/&#123;sid&#125;</code>.
              </p>
            </main>
          </body>
        </html>
      ).toString(),
  );
});
