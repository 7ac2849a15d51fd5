/** Probes, metrics, and which resources the app closes (only those it created). */
import { describe, expect, inject, it } from 'vitest';
import { createMemoryEngine } from '@taskpulse/engine';
import { freePort } from '@taskpulse/testkit';
import { uniquePrefix } from '@taskpulse/testkit/engines';
import { Registry } from 'prom-client';
import { build } from '../src/build';

describe('health and metrics', () => {
  it('answers /healthz and /readyz while the engine is ready', async () => {
    const app = await build();
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready' });
    await app.close();
  });

  it('labels requests by route pattern, never by raw id, in the registry passed in', async () => {
    const registry = new Registry();
    const app = await build({ registry });
    await app.inject('/api/v1/progress/secret-task-42');
    await app.inject({ method: 'POST', url: '/api/v1/progress/secret-task-42', payload: { progress: 200 } });
    await app.inject('/no/such/route');
    const text = await registry.metrics();
    expect(text).toContain('taskpulse_api_http_request_duration_seconds_count{method="GET",route="/api/v1/progress/:task_id",status_code="404"} 1');
    expect(text).toContain('taskpulse_api_http_request_duration_seconds_count{method="POST",route="/api/v1/progress/:task_id",status_code="400"} 1');
    expect(text).toContain('route="unmatched"');
    expect(text).toContain('taskpulse_api_errors_total{code="bad_request"} 1');
    expect(text).not.toContain('secret-task-42');
    const served = await app.inject('/metrics');
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toMatch(/^text\/plain/);
    expect(served.body).toContain('taskpulse_api_errors_total');
    await app.close();
  });

  it('closes an engine it created but not one passed in', async () => {
    const mine = createMemoryEngine({ prefix: uniquePrefix() });
    const withMine = await build({ engine: mine });
    await withMine.close();
    expect(mine.isReady()).toBe(true);
    await mine.close();

    const created = await build({ redisUrl: inject('redisUrl'), prefix: uniquePrefix() });
    const engine = created.engine;
    expect(engine.kind).toBe('redis');
    await created.close();
    expect(engine.isReady()).toBe(false);
  });

  it('answers 503 while Redis is unreachable', async () => {
    const deadUrl = `redis://127.0.0.1:${await freePort()}`;
    const app = await build({ redisUrl: deadUrl, prefix: uniquePrefix(), bridgeQueues: [] });
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    const res = await app.inject({ method: 'POST', url: '/api/v1/tasks/t/start', payload: {} });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('unavailable');
    expect((await app.inject('/api/v1/progress/t')).statusCode).toBe(503);
    await app.close();
  });
});
