/**
 * Dead peers (dead-peers.ts): a client that answers no ping, whether it ignores pings or its TCP reader
 * is paused, is closed with 4001 heartbeat_lost within two ping intervals and holds nothing afterwards;
 * a client that answers stays connected however quiet it is.
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
});
