/** The delivery latency histogram: Prometheus text a scraper accepts, cumulative buckets, sampling of task frames. */
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { connectClient, waitFor } from '@taskpulse/testkit';
import { openEngine } from '@taskpulse/testkit/engines';
import { userChannel } from '@taskpulse/protocol';
import { DeliveryLatency, TASK_SAMPLE_EVERY } from '../src/delivery-latency';
import { closeAllAfterEach, startGateway } from './support/gateways';

closeAllAfterEach();

describe('DeliveryLatency', () => {
  it('exports cumulative buckets in seconds, a sum and a count per kind; frames without published_at are skipped', async () => {
    const registry = new Registry();
    const latency = new DeliveryLatency(registry);
    latency.observe('user', 1000, 1000); // 0 ms
    latency.observe('user', 1000, 1003); // 3 ms
    latency.observe('user', 1000, 1200); // 200 ms
    latency.observe('user', 1000, 900); // clock skew: counts as 0
    latency.observe('user', -1, 5000); // no published_at
    latency.observe('project', 0, 60_000); // over the last bound
    const text = await registry.metrics();
    expect(text).toContain('# TYPE taskpulse_gateway_delivery_latency_seconds histogram');
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_bucket\{kind="user",le="0.001"\} 2$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_bucket\{kind="user",le="0.005"\} 3$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_bucket\{kind="user",le="0.25"\} 4$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_bucket\{kind="user",le="\+Inf"\} 4$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_sum\{kind="user"\} 0.203$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_count\{kind="user"\} 4$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_bucket\{kind="project",le="10"\} 0$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_count\{kind="project"\} 1$/m);
    expect(text).toMatch(/^taskpulse_gateway_delivery_latency_seconds_count\{kind="task"\} 0$/m);
  });

  it('samples one task frame in TASK_SAMPLE_EVERY, the first one included', () => {
    const latency = new DeliveryLatency(new Registry());
    const sampled = Array.from({ length: 3 * TASK_SAMPLE_EVERY }, () => latency.sampleTask());
    expect(sampled[0]).toBe(true);
    expect(sampled.filter(Boolean)).toHaveLength(3);
  });
});

describe('delivery latency at the fan-out', () => {
  it('observes a frame by its published_at when the gateway hands it out, and counts its bytes', async () => {
    const engine = await openEngine('memory');
    const { httpUrl, wsUrl } = await startGateway({ engine });
    const client = await connectClient(wsUrl('user_id=u1'));
    // Published two seconds ago (a publisher whose frame waited): lands in the 2.5 s bucket, not the 1 s one.
    const frame = `{"type":"progress","task_id":"t1","scope":"user","published_at":${Date.now() - 2000},"payload":{"task_id":"t1","progress":5,"message":"late"}}`;
    await waitFor('the user channel live', async () => (await engine.broadcast(userChannel(engine.prefix, 'u1'), frame)) > 0);
    await client.next((f) => f.payload?.message === 'late');
    const metrics = await (await fetch(httpUrl('/metrics'))).text();
    expect(metrics).toMatch(/^taskpulse_gateway_delivery_latency_seconds_count\{kind="user"\} 1$/m);
    expect(metrics).toMatch(/^taskpulse_gateway_delivery_latency_seconds_bucket\{kind="user",le="1"\} 0$/m);
    expect(metrics).toMatch(/^taskpulse_gateway_delivery_latency_seconds_bucket\{kind="user",le="2.5"\} 1$/m);
    expect(metrics).toContain(`taskpulse_gateway_fanned_out_bytes_total{kind="user"} ${Buffer.byteLength(frame)}`);
    await engine.close();
  });
});
