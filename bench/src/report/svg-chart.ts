/**
 * The S2 chart, written by hand: latency percentiles (p50, p99, p99.9) against offered load, one colour
 * per system, both axes logarithmic, with the 10 ms p99 target as a line.
 */
import type { S2Result } from '../scenarios/results';

/** One system's S2 levels, drawn in one colour. */
export interface ChartSeries {
  label: string;
  color: string;
  s2: S2Result;
}

const W = 860;
const H = 500;
const M = { left: 70, right: 230, top: 40, bottom: 60 };
const PERCENTILES = [
  { key: 'p50', label: 'p50', dash: '2,4', width: 1.5 },
  { key: 'p99', label: 'p99', dash: '', width: 2.5 },
  { key: 'p999', label: 'p99.9', dash: '8,4', width: 1.5 },
] as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmtLoad = (v: number) => (v >= 1000 ? `${v / 1000}k` : String(v));

/** The SVG text of the chart. */
export function latencyChart(title: string, series: ChartSeries[]): string {
  const points = series.flatMap((s) => Object.values(s.s2.levels));
  const loads = [...new Set(points.map((p) => p.offered))].sort((a, b) => a - b);
  if (loads.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="80"><text x="10" y="40">no S2 data</text></svg>`;
  const values = points.flatMap((p) => [p.latency.p50, p.latency.p99, p.latency.p999]).filter((v) => v > 0 && Number.isFinite(v));
  const yMin = 10 ** Math.floor(Math.log10(Math.min(0.1, ...values)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(20, ...values)));
  const xMin = loads[0]! / 1.5;
  const xMax = loads.at(-1)! * 1.5;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + ((Math.log(v) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * pw;
  const y = (v: number) => M.top + ph - ((Math.log(Math.max(v, yMin)) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // Grid and axes.
  for (let d = yMin; d <= yMax * 1.0001; d *= 10) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 8}" y="${y(d) + 4}" text-anchor="end">${d >= 1 ? d : d.toFixed(Math.round(-Math.log10(d)))}</text>`);
  }
  for (const l of loads) {
    out.push(`<line x1="${x(l)}" x2="${x(l)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(l)}" y="${M.top + ph + 18}" text-anchor="middle">${fmtLoad(l)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 15}" text-anchor="middle">offered load, deliveries per second (log)</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">latency, ms (log)</text>`);
  // The p99 target.
  if (10 > yMin && 10 < yMax) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(10)}" y2="${y(10)}" stroke="#d62728" stroke-dasharray="4,3"/>`);
    out.push(`<text x="${M.left + pw - 4}" y="${y(10) - 4}" text-anchor="end" fill="#d62728">p99 target 10 ms</text>`);
  }
  // Series.
  for (const s of series) {
    const levels = Object.values(s.s2.levels).sort((a, b) => a.offered - b.offered);
    for (const p of PERCENTILES) {
      const pts = levels.filter((l) => Number.isFinite(l.latency[p.key]) && l.latency.count > 0).map((l) => `${x(l.offered).toFixed(1)},${y(l.latency[p.key]).toFixed(1)}`);
      if (pts.length === 0) continue;
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${p.width}"${p.dash ? ` stroke-dasharray="${p.dash}"` : ''}/>`);
      for (const pt of pts) {
        const [cx, cy] = pt.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="${p.key === 'p99' ? 3.5 : 2.5}" fill="${s.color}"/>`);
      }
    }
    for (const l of levels.filter((l) => l.saturated)) {
      out.push(`<text x="${x(l.offered) + 5}" y="${y(l.latency.p99) - 6}" fill="${s.color}">saturated</text>`);
    }
  }
  // Legend.
  const lx = M.left + pw + 20;
  let ly = M.top + 10;
  for (const s of series) {
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${s.color}"/><text x="${lx + 18}" y="${ly + 1}">${esc(s.label)}</text>`);
    ly += 20;
  }
  ly += 10;
  for (const p of PERCENTILES) {
    out.push(`<line x1="${lx}" x2="${lx + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="#333" stroke-width="${p.width}"${p.dash ? ` stroke-dasharray="${p.dash}"` : ''}/>`);
    out.push(`<text x="${lx + 38}" y="${ly}">${p.label}</text>`);
    ly += 18;
  }
  out.push('</svg>');
  return out.join('\n');
}
