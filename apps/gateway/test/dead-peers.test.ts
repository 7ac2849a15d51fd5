/**
 * Dead peers (dead-peers.ts): a client that answers no ping, whether it ignores pings or its TCP reader
 * is paused, is closed with 4001 heartbeat_lost within two ping intervals and holds nothing afterwards;
 * a client that answers stays connected however quiet it is; the pings of many quiet clients are spread
 * over the interval, not sent in one burst.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, connectClient, type TestClient } from '@taskpulse/testkit';
import { openEngine } from '@taskpulse/testkit/engines';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { instrument } from './support/engines';

closeAllAfterEach();

const INTERVAL_S = 0.4;

async function setup() {
  const engine = instrument(await openEngine('memory'));
  return { engine, ...(await startGateway({ engine, limits: { pingIntervalSeconds: INTERVAL_S } })) };
}

async function subscribe(client: TestClient, taskId: string): Promise<void> {
  client.send({ action: 'subscribe', task_id: taskId, request_id: taskId });
  await client.next((f) => f.request_id === taskId);
}

describe('dead peers', () => {
  it('closes a client that answers no ping with 4001 heartbeat_lost within two intervals and releases it', async () => {
    const { engine, wsUrl, gateway } = await setup();
    const client = await connectClient(wsUrl('user_id=u1'), { autoPong: false });
    let pings = 0;
    client.ws.on('ping', () => (pings += 1));
    await subscribe(client, 'task-dead');
    const lastHeard = Date.now();
    const { code, reason } = await client.closed;
    const after = Date.now() - lastHeard;
    expect({ code, reason }).toEqual({ code: 4001, reason: 'heartbeat_lost' });
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(after).toBeGreaterThan(INTERVAL_S * 1000);
    expect(after).toBeLessThan(2 * INTERVAL_S * 1000 + 400); // two intervals, plus timer slack on a busy machine
    expect(gateway.connectionCount()).toBe(0);
    await waitFor('every registration gone', () => engine.registrations() === 0);
    expect(await gateway.metrics.registry.getSingleMetricAsString('taskpulse_gateway_heartbeat_closes_total')).toMatch(/ 1$/m);
  });

  it('closes a client whose TCP reader is paused, and holds nothing for it afterwards', async () => {
    const { engine, wsUrl, gateway } = await setup();
    const client = await connectClient(wsUrl('user_id=u2'));
    await subscribe(client, 'task-paused');
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const paused = Date.now();
    await waitFor('the server closed it', () => gateway.connectionCount() === 0, 5000, 10);
    expect(Date.now() - paused).toBeLessThan(2 * INTERVAL_S * 1000 + 400);
    await waitFor('every registration gone', () => engine.registrations() === 0);
    socket.resume();
    const { code, reason } = await client.closed;
    expect({ code, reason }).toEqual({ code: 4001, reason: 'heartbeat_lost' });
  });

  it('keeps a quiet client that answers pings', async () => {
    const { wsUrl, gateway } = await setup();
    const client = await connectClient(wsUrl());
    let pings = 0;
    client.ws.on('ping', () => (pings += 1));
    await new Promise((r) => setTimeout(r, 5 * INTERVAL_S * 1000));
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(gateway.connectionCount()).toBe(1);
    client.send({ action: 'ping', request_id: 'still' });
    expect(await client.next((f) => f.request_id === 'still')).toMatchObject({ type: 'ack' });
  });

  it('spreads the pings of clients that went quiet together over the half interval instead of one burst', async () => {
    const engine = instrument(await openEngine('memory'));
    const intervalS = 2; // half interval 1 s: 10 slices, a tick every 100 ms
    const { wsUrl } = await startGateway({ engine, limits: { pingIntervalSeconds: intervalS } });
    const clients = await Promise.all(Array.from({ length: 40 }, (_, i) => connectClient(wsUrl(`user_id=quiet${i}`))));
    const firstPing = new Map<number, number>();
    clients.forEach((client, i) => client.ws.once('ping', () => firstPing.set(i, Date.now())));
    await waitFor('every quiet client pinged', () => firstPing.size === clients.length, 4 * intervalS * 1000, 20);
    const times = [...firstPing.values()].sort((a, b) => a - b);
    const spreadMs = times.at(-1)! - times[0]!;
    const largestBurst = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 50).length));
    // one sweep for all (the old way) pings all 40 within a few ms; ten slices put about 4 in each tick
    expect(spreadMs).toBeGreaterThan(500);
    expect(largestBurst).toBeLessThanOrEqual(12);
  });
});
