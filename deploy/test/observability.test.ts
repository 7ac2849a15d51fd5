/**
 * The Grafana dashboard and the Prometheus alert rules against the code: every taskpulse metric they
 * query is one a process registers (a name literal in the sources, or a process metric), and the alerts
 * the operations docs promise are there.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '@taskpulse/metrics';
import { readYaml } from '../k8s/test/kustomize-subset';

const root = new URL('../../', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'test') return [];
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every metric name the code registers: name literals in apps/ and packages/ sources, and the process metrics. */
async function knownMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of [...sourceFiles(`${root}apps`), ...sourceFiles(`${root}packages`)]) {
    for (const match of readFileSync(file, 'utf8').matchAll(/'(taskpulse_[a-z0-9_]+)'/g)) names.add(match[1]!);
  }
  const registry = new Registry();
  registerProcessMetrics(registry);
  for (const metric of await registry.getMetricsAsJSON()) names.add(metric.name);
  return names;
}

/** The taskpulse metric names an expression uses, without the histogram suffixes. */
function queried(expr: string): string[] {
  return [...expr.matchAll(/taskpulse_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

const dashboard = JSON.parse(readFileSync(`${root}deploy/grafana/taskpulse.json`, 'utf8'));
const rules = readYaml(`${root}deploy/prometheus/alerts.yaml`)[0]!.groups.flatMap((g: any) => g.rules) as Array<{ alert: string; expr: string }>;

describe('Grafana dashboard and alert rules', () => {
  it('query only metrics the code registers', async () => {
    const known = await knownMetrics();
    const exprs = [
      ...dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr as string)),
      ...rules.map((r) => r.expr),
    ];
    expect(exprs.length).toBeGreaterThan(20);
    for (const expr of exprs) for (const name of queried(expr)) expect(known.has(name), `${name} in ${expr}`).toBe(true);
  });

  it('alert on slow consumers, not-ready gateways, delivery latency p99 and Redis errors', () => {
    const byMetric = (fragment: string) => rules.filter((r) => r.expr.includes(fragment)).map((r) => r.alert);
    expect(byMetric('taskpulse_gateway_slow_consumer_closes_total')).not.toEqual([]);
    expect(byMetric('taskpulse_gateway_ready')).not.toEqual([]);
    expect(rules.find((r) => r.expr.includes('histogram_quantile(0.99') && r.expr.includes('taskpulse_gateway_delivery_latency_seconds_bucket'))).toBeDefined();
    expect(byMetric('taskpulse_engine_redis_command_errors_total')).not.toEqual([]);
    for (const rule of rules) expect(rule.alert).toMatch(/^Taskpulse[A-Z]\w+$/);
  });

  it('is a Grafana dashboard whose panels all read the Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('taskpulse');
    expect(dashboard.templating.list.map((v: any) => v.name)).toContain('datasource');
    for (const panel of dashboard.panels.filter((p: any) => p.type !== 'row')) {
      expect(panel.datasource.uid, panel.title).toBe('${datasource}');
      expect(panel.gridPos.w).toBeGreaterThan(0);
    }
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
  });
});
