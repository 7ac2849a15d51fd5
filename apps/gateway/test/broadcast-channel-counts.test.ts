import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createMemoryEngine, EngineUnavailableError, type ChannelListener, type Engine } from '@taskpulse/engine';
import { waitFor } from '@taskpulse/testkit';
import { BroadcastChannelCounts } from '../src/broadcast-channel-counts';
import { createGatewayMetrics } from '../src/metrics';
import { PendingWork } from '../src/pending-work';

/** A memory engine whose next `failures` subscribes fail as an unreachable Redis would. */
function flakyEngine(failures: number): Engine & { subscribeCalls: number } {
  const inner = createMemoryEngine();
  let left = failures;
  const engine = Object.create(inner) as Engine & { subscribeCalls: number };
  engine.subscribeCalls = 0;
  engine.subscribe = async (channel: string, listener: ChannelListener) => {
    engine.subscribeCalls += 1;
    if (left-- > 0) throw new EngineUnavailableError('subscribe fails in this test');
    return inner.subscribe(channel, listener);
  };
  return engine;
}

describe('broadcast channels', () => {
  it('registers a channel once for many connections and leaves it with the last one', async () => {
    const engine = flakyEngine(0);
    const channels = new BroadcastChannelCounts(engine, createGatewayMetrics(), pino({ level: 'silent' }), new PendingWork());
    const seen: string[] = [];
    const listener: ChannelListener = (_c, frame) => seen.push(frame.toString());
    for (let i = 0; i < 3; i++) channels.join('tp:u:u1', listener);
    await waitFor('registered', async () => (await engine.broadcast('tp:u:u1', 'probe')) === 1);
    expect(await engine.broadcast('tp:u:u1', 'one')).toBe(1);
    expect(engine.subscribeCalls).toBe(1);
    channels.leave('tp:u:u1', listener);
    channels.leave('tp:u:u1', listener);
    expect(await engine.broadcast('tp:u:u1', 'two')).toBe(1);
    channels.leave('tp:u:u1', listener);
    await waitFor('left', async () => (await engine.broadcast('tp:u:u1', 'probe')) === 0);
    expect(await engine.broadcast('tp:u:u1', 'three')).toBe(0);
    expect(seen.filter((text) => text !== 'probe')).toEqual(['one', 'two']);
    expect(channels.size).toBe(0);
  });

  it('retries a failed registration with the next connection and counts the failure', async () => {
    const engine = flakyEngine(1);
    const metrics = createGatewayMetrics();
    const channels = new BroadcastChannelCounts(engine, metrics, pino({ level: 'silent' }), new PendingWork());
    const listener: ChannelListener = () => {};
    channels.join('tp:p:p1', listener);
    await waitFor('the failure counted', async () => (await metrics.registry.getSingleMetricAsString('taskpulse_gateway_engine_failures_total')).includes('operation="subscribe"} 1'));
    expect(await engine.broadcast('tp:p:p1', 'x')).toBe(0);
    channels.join('tp:p:p1', listener);
    await waitFor('registered on retry', async () => (await engine.broadcast('tp:p:p1', 'x')) === 1);
    expect(engine.subscribeCalls).toBe(2);
    channels.leave('tp:p:p1', listener);
    channels.leave('tp:p:p1', listener);
    await waitFor('left', async () => (await engine.broadcast('tp:p:p1', 'x')) === 0);
  });
});
