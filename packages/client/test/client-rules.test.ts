/**
 * The client's own rules, each against a scripted WebSocket server on a real socket (the `ws` package):
 * the frames a real gateway sends only under faults (duplicates after a kill -9, holes, conflation, an
 * epoch change, close codes, a socket never greeted) are sent here on purpose. Plus the backoff and the ETA.
 */
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@taskpulse/testkit';
import { connect, reconnectDelay, TaskView, type ConnectionStateEvent, type TaskpulseClient, type WebSocketConstructor } from '../src/index';

const WS = WebSocket as unknown as WebSocketConstructor;

interface Script {
  url: string;
  /** Each accepted connection: its request URL and the messages it sent (parsed). */
  connections: Array<{ url: URL; socket: ServerSocket; received: Array<Record<string, unknown>> }>;
  close(): Promise<void>;
}

/** A WebSocket server that hands each connection to `onConnection` (the script for that connection number). */
async function scriptedServer(onConnection: (socket: ServerSocket, index: number, url: URL) => void): Promise<Script> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as { port: number };
  const script: Script = {
    url: `ws://127.0.0.1:${port}/api/v1/ws`,
    connections: [],
    close: () => {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (socket, request) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const entry = { url, socket, received: [] as Array<Record<string, unknown>> };
    script.connections.push(entry);
    socket.on('message', (data) => entry.received.push(JSON.parse(String(data)) as Record<string, unknown>));
    onConnection(socket, script.connections.length - 1, url);
  });
  return script;
}

const send = (socket: ServerSocket, frame: unknown) => socket.send(JSON.stringify(frame));
const greet = (socket: ServerSocket, clientId: string, restored?: string[]) =>
  send(socket, { type: 'connected', payload: { client_id: clientId, user_id: 'u1', ...(restored ? { restored_tasks: restored } : {}) } });
const progress = (offset: number, epoch = 'e1', extra: Record<string, unknown> = {}) => ({
  type: 'progress',
  task_id: 't1',
  offset,
  epoch,
  published_at: 1, // a field this client does not know: ignored
  ...extra,
  payload: { task_id: 't1', progress: offset, current_step: 's', total_steps: 4, completed_steps: 1, message: '', status: 'running', timestamp: new Date(Date.now() + offset).toISOString() },
});
const subscribeAck = (requestId: unknown, payload: Record<string, unknown>) => ({ type: 'ack', action: 'subscribe', task_id: 't1', request_id: requestId, payload });

let script: Script | undefined;
let client: TaskpulseClient | undefined;
afterEach(async () => {
  client?.close();
  await script?.close();
  client = undefined;
  script = undefined;
});

function open(url: string, extra: Partial<Parameters<typeof connect>[1]> = {}): TaskpulseClient {
  client = connect(url, { userId: 'u1', projectId: 'p1', WebSocket: WS, backoff: { minDelayMs: 50, maxDelayMs: 200 }, pingIntervalMs: 0, ...extra });
  return client;
}

describe('stream rules', () => {
  it('drops duplicates, accepts conflated gaps and a new epoch, and repairs an unexplained hole by subscribing from its position', async () => {
    script = await scriptedServer((socket) => greet(socket, 'c1'));
    const c = open(script.url);
    const seen: Array<[number, string]> = [];
    const unsubscribe = c.subscribe('t1', { progress: (frame) => seen.push([frame.offset, frame.epoch]) });
    await waitFor('subscribe', () => script!.connections[0]?.received.find((m) => m.action === 'subscribe'));
    const [conn] = script.connections;
    const first = conn!.received[0]!;
    expect(first).toMatchObject({ action: 'subscribe', task_id: 't1' });
    expect(first).not.toHaveProperty('offset'); // nothing to resume from yet
    send(conn!.socket, progress(1));
    send(conn!.socket, subscribeAck(first.request_id, { recovered: false, offset: 1, epoch: 'e1' }));
    await unsubscribe.ready;
    send(conn!.socket, progress(2));
    send(conn!.socket, progress(2)); // duplicate
    send(conn!.socket, progress(1)); // older: duplicate
    send(conn!.socket, progress(5, 'e1', { conflated: true })); // skipped 3 and 4 for a slow reader: fine
    send(conn!.socket, progress(1, 'e2')); // history lost: a new epoch starts at 1
    send(conn!.socket, progress(4, 'e2')); // a hole without `conflated`: repair
    await waitFor('the repair', () => conn!.received.filter((m) => m.action === 'subscribe').length === 2);
    const repair = conn!.received.slice(1);
    expect(repair.map((m) => m.action)).toEqual(['unsubscribe', 'subscribe']);
    expect(repair[1]).toMatchObject({ task_id: 't1', offset: 1, epoch: 'e2' });
    expect(seen).toEqual([[1, 'e1'], [2, 'e1'], [5, 'e1'], [1, 'e2']]);
    expect(c.counters).toMatchObject({ duplicatesDropped: 2, holesRepaired: 1 });
    // The server answers the repair: unsubscribe ack, the missed frames, subscribe ack; then live.
    send(conn!.socket, { type: 'ack', action: 'unsubscribe', task_id: 't1', request_id: repair[0]!.request_id, payload: {} });
    for (const offset of [2, 3, 4]) send(conn!.socket, progress(offset, 'e2'));
    send(conn!.socket, subscribeAck(repair[1]!.request_id, { recovered: true, offset: 4, epoch: 'e2' }));
    send(conn!.socket, { type: 'ack', action: 'resync', task_id: 't1', payload: { recovered: false, offset: 9, epoch: 'e3' } });
    send(conn!.socket, progress(10, 'e3'));
    await waitFor('offset 10', () => unsubscribe.view.offset === 10);
    expect(seen.slice(4)).toEqual([[2, 'e2'], [3, 'e2'], [4, 'e2'], [10, 'e3']]);
  });
});

describe('connection rules', () => {
  it('reconnects after 4000 with old_client_id alone and resubscribes with its position; stops at 4501', async () => {
    script = await scriptedServer((socket, index) => {
      greet(socket, `c${index}`, index === 0 ? undefined : ['t1', 'gone']);
      socket.on('message', (data) => {
        const msg = JSON.parse(String(data)) as Record<string, unknown>;
        if (msg.action !== 'subscribe') return;
        if (index === 0) {
          send(socket, progress(1));
          send(socket, subscribeAck(msg.request_id, { recovered: false, offset: 1, epoch: 'e1' }));
          setTimeout(() => socket.close(4000, 'slow consumer'), 20);
        } else setTimeout(() => socket.close(4501, 'policy'), 20);
      });
    });
    const c = open(script.url);
    const states: ConnectionStateEvent[] = [];
    c.on('state', (event) => states.push(event));
    const errors: string[] = [];
    c.on('error', (error) => errors.push(error.code));
    c.subscribe('t1');
    await waitFor('closed', () => c.state === 'closed');
    expect(script.connections).toHaveLength(2);
    const [first, second] = script.connections;
    expect(Object.fromEntries(first!.url.searchParams)).toEqual({ user_id: 'u1', project_id: 'p1' });
    // The guide's reconnect URL: ids in it would win over the session, so it carries the old id alone.
    expect(Object.fromEntries(second!.url.searchParams)).toEqual({ old_client_id: 'c0' });
    expect(second!.received.filter((m) => m.action === 'subscribe')[0]).toMatchObject({ task_id: 't1', offset: 1, epoch: 'e1' });
    // A restored task the client no longer follows is given back.
    expect(second!.received.filter((m) => m.action === 'unsubscribe')).toMatchObject([{ task_id: 'gone' }]);
    expect(states.map((s) => [s.state, s.code])).toEqual([
      ['connected', undefined],
      ['reconnecting', 4000],
      ['connected', undefined],
      ['closed', 4501],
    ]);
    expect(errors).toEqual(['closed']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(script.connections).toHaveLength(2);
  });

  it('drops a socket that is never greeted and tries again', async () => {
    script = await scriptedServer((socket, index) => {
      if (index > 0) greet(socket, 'late');
    });
    const c = open(script.url, { connectTimeoutMs: 300 });
    await c.whenConnected(3000);
    expect(script.connections).toHaveLength(2);
    expect(c.clientId).toBe('late');
  });

  it('connects again with its ids, at once, when the resumed session is gone (insecure mode would be anonymous)', async () => {
    script = await scriptedServer((socket, index) => {
      greet(socket, `c${index}`); // never any restored_tasks: no session found
      if (index === 0) setTimeout(() => socket.close(4000), 20);
    });
    const c = open(script.url);
    await waitFor('third connection', () => script!.connections.length === 3 && c.state === 'connected');
    const params = script.connections.map((conn) => Object.fromEntries(conn.url.searchParams));
    expect(params).toEqual([{ user_id: 'u1', project_id: 'p1' }, { old_client_id: 'c0' }, { user_id: 'u1', project_id: 'p1' }]);
  });

  it('rejects an action that gets no answer within actionTimeoutMs', async () => {
    script = await scriptedServer((socket) => greet(socket, 'c1'));
    const c = open(script.url, { actionTimeoutMs: 200 });
    await c.whenConnected();
    await expect(c.ping()).rejects.toMatchObject({ code: 'timeout' });
  });
});

describe('reconnect delay', () => {
  it('is full jitter between 1 s and a doubling cap, never above 30 s, for any attempt', () => {
    expect(reconnectDelay(1, {}, () => 0)).toBe(1000);
    expect(reconnectDelay(1, {}, () => 0.999999)).toBe(2000);
    expect(reconnectDelay(3, {}, () => 0.999999)).toBe(8000);
    expect(reconnectDelay(5, {}, () => 0.999999)).toBe(30_000);
    expect(reconnectDelay(10_000, {}, () => 0.999999)).toBe(30_000);
    const spread = Array.from({ length: 200 }, () => reconnectDelay(6));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...spread)).toBeLessThanOrEqual(30_000);
    expect(new Set(spread).size).toBeGreaterThan(100);
  });
});

describe('task view', () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  const frame = (offset: number, pct: number, ms: number) => ({
    type: 'progress' as const,
    task_id: 't',
    offset,
    epoch: 'e',
    payload: { task_id: 't', progress: pct, current_step: 's', total_steps: 4, completed_steps: 0, message: '', status: 'running' as const, timestamp: at(ms) },
  });

  it('estimates the ETA from the smoothed rate once two rising frames were seen, and counts it down', () => {
    const view = new TaskView('t');
    view.apply({ type: 'status', task_id: 't', offset: 1, epoch: 'e', payload: { task_id: 't', status: 'running', timestamp: at(0) } }, 0);
    view.apply(frame(2, 0, 0), 0);
    expect(view.etaMs(0)).toBeUndefined();
    view.apply(frame(3, 10, 1000), 1000); // 10 %/s: 90 % left = 9 s
    expect(view.etaMs(1000)).toBe(9000);
    expect(view.etaMs(4000)).toBe(6000);
    view.apply(frame(4, 40, 2000), 2000); // 30 %/s sample, smoothed: 0.3*30 + 0.7*10 = 16 %/s
    expect(view.etaMs(2000)).toBeCloseTo(60 / 0.016, 0);
    expect(view.elapsedMs(Date.UTC(2026, 0, 1) + 2500)).toBe(2500); // server start time to the local clock
    view.apply({ type: 'status', task_id: 't', offset: 5, epoch: 'e', payload: { task_id: 't', status: 'failed', error: 'boom', timestamp: at(3000) } }, 3000);
    expect(view.etaMs(3000)).toBeUndefined();
    expect(view.elapsedMs(Date.UTC(2026, 0, 1) + 99_000)).toBe(3000);
    expect(view.error).toBe('boom');
  });
});
