/** GET /api/v1/progress/stats and /api/v1/websocket/stats on both engines. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { waitFor } from '@taskpulse/testkit';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';
import { build } from '../src/build';

describe.each(ENGINE_MATRIX)('stats routes on the $name engine', (backend) => {
  let engine: Engine;
  let app: FastifyInstance;

  beforeEach(async () => {
    engine = await backend.open();
    app = await build({ engine });
  });

  afterEach(async () => {
    await app.close();
    await closeEngines();
  });

  it('counts tasks by status', async () => {
    const reporter = createReporter(engine);
    await reporter.notifyTaskStart('a');
    await reporter.notifyTaskStart('b');
    await reporter.notifyTaskComplete('b', { ok: true });
    await reporter.notifyTaskStart('c');
    await reporter.notifyTaskFailed('c', 'broken');
    const res = await app.inject('/api/v1/progress/stats');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ tasks: 3, by_status: { pending: 0, running: 1, completed: 1, failed: 1, cancelled: 0 } });
  });

  it('sums the reports of two gateway nodes and forgets one whose report expired', async () => {
    await engine.reportNode({ nodeId: 'node-a', total: 3, byUser: { 'user-123': 2, 'user-456': 1 }, byProject: { 'project-789': 3 } }, 60);
    await engine.reportNode({ nodeId: 'node-b', total: 2, byUser: { 'user-123': 1, 'user-9': 1 }, byProject: { 'project-789': 2 } }, 0.4);
    const both = await app.inject('/api/v1/websocket/stats');
    expect(both.statusCode).toBe(200);
    expect(both.json()).toEqual({
      total_clients: 5,
      by_user: { 'user-123': 3, 'user-456': 1, 'user-9': 1 },
      by_project: { 'project-789': 5 },
      nodes: 2,
    });
    const after = await waitFor('node-b to expire', async () => {
      const stats = (await app.inject('/api/v1/websocket/stats')).json();
      return stats.nodes === 1 ? stats : null;
    });
    expect(after).toEqual({ total_clients: 3, by_user: { 'user-123': 2, 'user-456': 1 }, by_project: { 'project-789': 3 }, nodes: 1 });
  });
});
