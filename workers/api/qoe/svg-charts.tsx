// Charts drawn on the server as SVG: no script, no inline style (the pages' CSP allows
// neither) — colours and strokes are SVG presentation attributes, text is <text>. Each
// chart has a <title> and a table beside it for screen readers (the dashboard's tables).

export type Point = { x: number; y: number | null };
export type Series = { label: string; color: string; points: Point[] };

const W = 640;
const H = 220;
const PAD = { left: 56, right: 12, top: 16, bottom: 28 };

/** Round-ish ticks from 0 to at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

const axisTime = (ms: number, spanMs: number) => {
  const d = new Date(ms).toISOString();
  return spanMs > 2 * 86_400_000 ? d.slice(5, 10) : d.slice(11, 16);
};

function frame(title: string, xFrom: number, xTo: number, yMax: number, yFormat: (v: number) => string, children: unknown) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => xFrom + f * (xTo - xFrom));
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={title} xmlns="http://www.w3.org/2000/svg">
      <title>{title}</title>
      {yTicks.map((v) => {
        const y = PAD.top + plotH - (v / yMax) * plotH;
        return (
          <g>
            <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} stroke="#2e2e38" stroke-width="1" />
            <text x={PAD.left - 6} y={y + 4} text-anchor="end" font-size="11" fill="#a6a6b3">
              {yFormat(v)}
            </text>
          </g>
        );
      })}
      {xTicks.map((x) => (
        <text x={PAD.left + ((x - xFrom) / (xTo - xFrom)) * plotW} y={H - 8} text-anchor="middle" font-size="11" fill="#a6a6b3">
          {axisTime(x, xTo - xFrom)}
        </text>
      ))}
      {children}
    </svg>
  );
}

const scale = (xFrom: number, xTo: number, yMax: number) => {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  return {
    x: (x: number) => PAD.left + ((x - xFrom) / Math.max(1, xTo - xFrom)) * plotW,
    y: (y: number) => PAD.top + plotH - (Math.min(y, yMax) / yMax) * plotH,
  };
};

/** Lines over time; a gap where a point has no value. */
export function LineChart(props: { title: string; from: number; to: number; series: Series[]; yFormat: (v: number) => string; yMin?: number }) {
  const values = props.series.flatMap((s) => s.points.map((p) => p.y)).filter((v): v is number => v !== null);
  const yMax = niceMax(Math.max(props.yMin ?? 0, ...values));
  const s = scale(props.from, props.to, yMax);
  return frame(
    props.title,
    props.from,
    props.to,
    yMax,
    props.yFormat,
    <>
      {props.series.map((series) => {
        let d = "";
        let pen = false;
        for (const p of series.points) {
          if (p.y === null) {
            pen = false;
            continue;
          }
          d += `${pen ? "L" : "M"}${s.x(p.x).toFixed(1)},${s.y(p.y).toFixed(1)} `;
          pen = true;
        }
        return (
          <g>
            <path d={d.trim() || "M0,0"} fill="none" stroke={series.color} stroke-width="2" stroke-linejoin="round" />
            {series.points
              .filter((p) => p.y !== null)
              .map((p) => (
                <circle cx={s.x(p.x).toFixed(1)} cy={s.y(p.y!).toFixed(1)} r="2.5" fill={series.color} />
              ))}
          </g>
        );
      })}
      <Legend series={props.series} />
    </>,
  );
}

/** Stacked bars over time: each bar's parts are shares of its total (the bitrate mix). */
export function StackedShareChart(props: { title: string; from: number; to: number; stepMs: number; bars: { x: number; parts: number[] }[]; labels: string[]; colors: string[] }) {
  const s = scale(props.from, props.to, 1);
  const barW = Math.max(2, s.x(props.from + props.stepMs) - s.x(props.from) - 2);
  return frame(
    props.title,
    props.from,
    props.to,
    1,
    (v) => `${Math.round(v * 100)}%`,
    <>
      {props.bars.map((bar) => {
        const total = bar.parts.reduce((a, b) => a + b, 0);
        if (total <= 0) return null;
        let acc = 0;
        return (
          <g>
            {bar.parts.map((part, i) => {
              const y0 = s.y(acc / total);
              acc += part;
              const y1 = s.y(acc / total);
              return part > 0 ? <rect x={s.x(bar.x).toFixed(1)} y={y1.toFixed(1)} width={barW.toFixed(1)} height={Math.max(0, y0 - y1).toFixed(1)} fill={props.colors[i]} /> : null;
            })}
          </g>
        );
      })}
      <Legend series={props.labels.map((label, i) => ({ label, color: props.colors[i]!, points: [] }))} />
    </>,
  );
}

function Legend(props: { series: Series[] }) {
  return (
    <g>
      {props.series.map((series, i) => (
        <g>
          <rect x={PAD.left + 8 + i * 96} y={4} width="10" height="10" fill={series.color} />
          <text x={PAD.left + 22 + i * 96} y={13} font-size="11" fill="#f2f2f5">
            {series.label}
          </text>
        </g>
      ))}
    </g>
  );
}
