// A light SVG line chart (and a sparkline): enough for Kiali's metric charts without a charting library.

import { formatBytes, formatMs, formatRps } from './status';

const PALETTE = ['#0066cc', '#3e8635', '#f0ab00', '#c9190b', '#8476d1', '#009596'];

export interface ChartSeries {
  name: string;
  points: Array<[number, number]>;
}

function formatValue(v: number, unit: string): string {
  if (unit === 'rps') return formatRps(v);
  if (unit === 'ms') return formatMs(v);
  if (unit === 'Bps') return formatBytes(v);
  return v.toFixed(2);
}

function clock(t: number): string {
  const d = new Date(t * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

export function LineChart({ title, unit, series, start, end, testId }: { title: string; unit: string; series: ChartSeries[]; start: number; end: number; testId?: string }) {
  const W = 460;
  const H = 170;
  const pad = { l: 62, r: 10, t: 10, b: 22 };
  const values = series.flatMap((s) => s.points.map((p) => p[1]).filter(Number.isFinite));
  const max = Math.max(...values, 0) || 1;
  const x = (t: number) => pad.l + ((t - start) / Math.max(1, end - start)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const hasData = values.length > 0;
  return (
    <div className="trellis-chart" data-test={testId} data-has-data={hasData ? 'true' : 'false'}>
      <div className="trellis-chart__title">{title}</div>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={title}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={pad.l} x2={W - pad.r} y1={y(max * f)} y2={y(max * f)} stroke="#d2d2d2" strokeDasharray={f ? '3 3' : undefined} />
            <text x={pad.l - 4} y={y(max * f) + 4} fontSize="10" textAnchor="end" fill="#6a6e73">
              {hasData ? formatValue(max * f, unit) : ''}
            </text>
          </g>
        ))}
        <text x={pad.l} y={H - 6} fontSize="10" fill="#6a6e73">
          {clock(start)}
        </text>
        <text x={W - pad.r} y={H - 6} fontSize="10" textAnchor="end" fill="#6a6e73">
          {clock(end)}
        </text>
        {series.map((s, i) => {
          // NaN (no data at a step) breaks the line rather than dropping it to zero.
          const parts: string[][] = [[]];
          for (const [t, v] of s.points) {
            if (Number.isFinite(v)) parts[parts.length - 1]!.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
            else if (parts[parts.length - 1]!.length) parts.push([]);
          }
          // A lone point (one step of data so far) is drawn as a dot: a one-point polyline shows nothing.
          return parts
            .filter((p) => p.length)
            .map((p, j) => {
              if (p.length > 1) return <polyline key={`${i}-${j}`} points={p.join(' ')} fill="none" stroke={PALETTE[i % PALETTE.length]} strokeWidth="1.8" />;
              const [cx, cy] = p[0]!.split(',');
              return <circle key={`${i}-${j}`} cx={cx} cy={cy} r="2.5" fill={PALETTE[i % PALETTE.length]} />;
            });
        })}
        {!hasData ? (
          <text x={W / 2} y={H / 2} textAnchor="middle" fontSize="12" fill="#6a6e73">
            No data
          </text>
        ) : null}
      </svg>
      <div className="trellis-chart__legend">
        {series.map((s, i) => (
          <span key={s.name}>
            <span className="trellis-chart__swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
            {s.name}
          </span>
        ))}
      </div>
    </div>
  );
}

export function Sparkline({ points, width = 140, height = 28 }: { points: Array<[number, number]>; width?: number; height?: number }) {
  const vals = points.filter((p) => Number.isFinite(p[1]));
  if (vals.length < 2) return <span className="trellis-muted">no traffic</span>;
  const t0 = vals[0]![0];
  const t1 = vals[vals.length - 1]![0];
  const max = Math.max(...vals.map((p) => p[1])) || 1;
  const pts = vals.map(([t, v]) => `${(((t - t0) / Math.max(1, t1 - t0)) * (width - 2) + 1).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(' ');
  return (
    <svg width={width} height={height} aria-label="traffic" data-test="sparkline">
      <polyline points={pts} fill="none" stroke="#0066cc" strokeWidth="1.5" />
    </svg>
  );
}
