import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../apps/gateway/src/metrics';
import { parseFanoutBuckets, toHistogram } from '../src/systems/prometheus-fanout';
import { Histogram } from '../src/stats/histogram';

describe("reading ours' server-side fan-out from the gateway's metrics", () => {
  it('turns the real histogram text into per-kind differences in microseconds', async () => {
    const metrics = createGatewayMetrics();
    metrics.broadcastFanout.labels('user').observe(0.0002); // 200 µs: the 250 µs bucket
    const before = parseFanoutBuckets(await metrics.registry.metrics());
    metrics.broadcastFanout.labels('user').observe(0.003); // 3 ms: the 5 ms bucket
    metrics.broadcastFanout.labels('user').observe(0.00004); // 40 µs: the 50 µs bucket
    metrics.broadcastFanout.labels('project').observe(0.02); // 20 ms: the 25 ms bucket
    const now = parseFanoutBuckets(await metrics.registry.metrics());
    expect(now.size).toBeGreaterThan(0);
    const user = new Histogram();
    user.merge(toHistogram('user', now, before));
    expect(user.count).toBe(2);
    expect(user.min).toBeCloseTo(50, 0);
    expect(user.max).toBeCloseTo(5000, 0);
    const project = new Histogram();
    project.merge(toHistogram('project', now, before));
    expect(project.count).toBe(1);
    expect(project.max).toBeCloseTo(25_000, 0);
  });
});
