/** The shared metric conventions: prefixed process metrics registered once per registry, the name rule, the worker's metrics server. */
import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { METRIC_NAME, misnamedMetrics, registerProcessMetrics, startMetricsServer } from '../src/index';

describe('registerProcessMetrics', () => {
  it('registers the Node.js process metrics with the taskpulse_ prefix, and a second call on the registry is a no-op', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    expect(() => registerProcessMetrics(registry)).not.toThrow();
    const text = await registry.metrics();
    expect(text).toMatch(/^taskpulse_process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^taskpulse_nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/^process_/m);
    expect(await misnamedMetrics(registry)).toEqual([]);
  });

  it('tells misnamed metrics apart', async () => {
    const registry = new Registry();
    new Counter({ name: 'requests_total', help: 'x', registers: [registry] });
    new Counter({ name: 'taskpulse_api_requests_total', help: 'x', registers: [registry] });
    expect(await misnamedMetrics(registry)).toEqual(['requests_total']);
    expect(METRIC_NAME.test('taskpulse_gateway')).toBe(false);
  });
});

describe('startMetricsServer', () => {
  it('serves /metrics, /healthz and /readyz (503 while not ready) and a JSON 404 elsewhere', async () => {
    const registry = new Registry();
    new Counter({ name: 'taskpulse_worker_things_total', help: 'x', registers: [registry] }).inc(3);
    let ready = false;
    const server = await startMetricsServer({ registry, port: 0, host: '127.0.0.1', ready: () => ready });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^taskpulse_worker_things_total 3$/m);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const missing = await fetch(`${base}/nope`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    } finally {
      await server.close();
    }
  });
});
