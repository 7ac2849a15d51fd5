/** Writes `<timestamp>.json`, `<timestamp>.md` and `<timestamp>-latency.svg` into the results folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemName } from '../publisher/sender';
import type { BenchReport } from './bench-report';
import { markdownReport } from './markdown';
import { latencyChart, type ChartSeries } from './svg-chart';

const COLORS: Record<SystemName, string> = { ours: '#1f77b4', socketio: '#ff7f0e', ceiling: '#7f7f7f' };

/** Writes the three files and returns their paths and the Markdown. */
export function writeReport(report: BenchReport, dir: string): { json: string; md: string; svg: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const svgName = `${stamp}-latency.svg`;
  const series: ChartSeries[] = (['ours', 'socketio', 'ceiling'] as const).flatMap((s) => {
    const s2 = report.systems[s]?.median?.s2;
    return s2 ? [{ label: report.systems[s]!.label, color: COLORS[s], s2 }] : [];
  });
  const paths = { json: join(dir, `${stamp}.json`), md: join(dir, `${stamp}.md`), svg: join(dir, svgName) };
  const markdown = markdownReport(report, svgName);
  writeFileSync(paths.json, JSON.stringify(report, null, 2));
  writeFileSync(paths.md, markdown);
  writeFileSync(paths.svg, latencyChart(`S2 latency against offered load (${report.config.mode}, median of ${report.config.runs})`, series));
  return { ...paths, markdown };
}
