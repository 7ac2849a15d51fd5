/** The node report on change: coalesced to at most one report per window, and never a stale last word. */
import { describe, expect, it } from 'vitest';
import { createMemoryEngine, type NodeReport } from '@taskpulse/engine';
import { waitFor } from '@taskpulse/testkit';
import { uniquePrefix, testLogger } from '@taskpulse/testkit/engines';
import { createGatewayMetrics } from '../src/metrics';
import { NodeCounts, startNodeHeartbeat } from '../src/node-heartbeat';

describe('node heartbeat on change', () => {
  it('reports a burst of changes in few coalesced reports, the last one carrying the final counts', async () => {
    const engine = createMemoryEngine({ prefix: uniquePrefix() });
    const reports: NodeReport[] = [];
    const reportNode = engine.reportNode.bind(engine);
    engine.reportNode = async (report, ttl) => {
      reports.push(structuredClone(report));
      await new Promise((r) => setTimeout(r, 30)); // a report in flight while changes keep coming
      return reportNode(report, ttl);
    };
    const counts = new NodeCounts();
    const heartbeat = startNodeHeartbeat({ nodes: engine, nodeId: 'n1', counts, intervalMs: 60_000, coalesceMs: 100, metrics: createGatewayMetrics(), logger: testLogger });
    await waitFor('the first report', () => reports.length === 1);
    const started = Date.now();
    for (let i = 0; i < 50; i++) {
      counts.add(`u${i % 5}`, undefined);
      heartbeat.changed();
      await new Promise((r) => setTimeout(r, 10));
    }
    const burstMs = Date.now() - started;
    await waitFor('the final counts reported', async () => (await engine.connectionStats()).total_clients === 50, 2000);
    // One report per coalescing window at most (plus the one in flight when the burst ended).
    expect(reports.length - 1).toBeLessThanOrEqual(Math.ceil(burstMs / 100) + 1);
    expect(reports.length - 1).toBeGreaterThanOrEqual(2);
    expect(reports.at(-1)!.total).toBe(50);
    await heartbeat.stop();
    expect((await engine.connectionStats()).nodes).toBe(0);
    await engine.close();
  });

  it('sends changes only after the first report, and the whole counts again once the engine lost them', async () => {
    const engine = createMemoryEngine({ prefix: uniquePrefix() });
    const reports: NodeReport[] = [];
    const reportNode = engine.reportNode.bind(engine);
    engine.reportNode = async (report, ttl) => {
      reports.push(structuredClone(report));
      return reportNode(report, ttl);
    };
    const counts = new NodeCounts();
    for (let i = 0; i < 1000; i++) counts.add(`u${i}`, 'p');
    const heartbeat = startNodeHeartbeat({ nodes: engine, nodeId: 'n1', counts, intervalMs: 60_000, coalesceMs: 20, metrics: createGatewayMetrics(), logger: testLogger });
    await waitFor('the first report', () => reports.length === 1);
    expect(reports[0]!.changesOnly).toBeFalsy();
    expect(Object.keys(reports[0]!.byUser)).toHaveLength(1000);
    counts.remove('u1', 'p');
    counts.add('new', undefined);
    heartbeat.changed();
    await waitFor('a changes-only report', () => reports.length === 2);
    expect(reports[1]).toEqual({ nodeId: 'n1', total: 1000, byUser: { u1: 0, new: 1 }, byProject: { p: 999 }, changesOnly: true });
    expect((await engine.connectionStats()).by_user).toMatchObject({ new: 1, u2: 1 });
    // the registry lost this node's counts (expiry, a Redis flush): the changes are refused, the whole counts follow
    await engine.removeNode('n1');
    counts.add('late', undefined);
    heartbeat.changed();
    await waitFor('the whole counts again', () => reports.length === 4);
    expect(reports[2]!.changesOnly).toBe(true);
    expect(reports[3]!.changesOnly).toBeFalsy();
    const stats = await engine.connectionStats();
    expect(stats.total_clients).toBe(1001);
    expect(Object.keys(stats.by_user)).toHaveLength(1001);
    await heartbeat.stop();
    await engine.close();
  });
});
