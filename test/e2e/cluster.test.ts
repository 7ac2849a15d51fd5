/**
 * The cluster end to end, as real processes: two gateway nodes, one API and the demo worker on one
 * private Redis, with a reporter in this process acting as a job worker; then all of it again on the
 * run's Redis Cluster (3 masters, 3 replicas), every process pointed at it by REDIS_URL=redis+cluster://….
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisEngineForUrl, type Engine } from '@taskpulse/engine';
import { createReporter, type ProgressReporter } from '@taskpulse/reporter';
import { freePort, runConnectSnippet, startTsProcess, waitFor, type ManagedProcess, connectClient, type TestClient } from '@taskpulse/testkit';

const root = new URL('../../', import.meta.url).pathname;
const HEARTBEAT_MS = 300;

let prefix: string;
let engine: Engine;
let reporter: ProgressReporter;
let gatewayA: ManagedProcess;
let gatewayB: ManagedProcess;
let api: ManagedProcess;
let worker: ManagedProcess;
let portA: number;
let portB: number;
let apiUrl: string;
const clients: TestClient[] = [];

async function client(port: number, query: string): Promise<TestClient> {
  const c = await connectClient(`ws://127.0.0.1:${port}/api/v1/ws?${query}`);
  clients.push(c);
  return c;
}

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function get(path: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${apiUrl}${path}`);
  return { status: res.status, json: await res.json() };
}

const BACKENDS = [
  { name: 'one Redis', url: () => inject('redisUrl') },
  { name: 'a Redis Cluster', url: () => inject('redisClusterUrl') },
];

describe.each(BACKENDS)('cluster: two gateways, one API, a worker, $name', (backend) => {
  beforeAll(async () => {
    prefix = `e2e${randomUUID().slice(0, 8)}`;
    const redisUrl = backend.url();
    // The guide's flow end to end: insecure mode (the jwt cluster is tested in apps/gateway/test/jwt-gateway.test.ts).
    const env = { REDIS_URL: redisUrl, KEY_PREFIX: prefix, LOG_LEVEL: 'warn', HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS), AUTH_MODE: 'insecure' };
    [portA, portB] = [await freePort(), await freePort()];
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const queue = `${prefix}-video`;
    gatewayA = startTsProcess(`${root}apps/gateway/src/main.ts`, { ...env, PORT: String(portA), NODE_ID: 'node-a' });
    gatewayB = startTsProcess(`${root}apps/gateway/src/main.ts`, { ...env, PORT: String(portB), NODE_ID: 'node-b' });
    api = startTsProcess(`${root}apps/api/src/main.ts`, { ...env, PORT: String(apiPort), DEMO_QUEUE: queue, QUEUE_NAME: queue, BRIDGE_QUEUES: '' });
    worker = startTsProcess(`${root}apps/worker/src/main.ts`, { ...env, QUEUE_NAME: queue, STEP_DELAY_MS: '50', METRICS_PORT: '0' });
    await Promise.all([
      gatewayA.waitForOutput(/gateway listening on/),
      gatewayB.waitForOutput(/gateway listening on/),
      api.waitForOutput(/api listening on/),
      worker.waitForOutput(/worker (ready|listening|started)/i),
    ]);
    engine = createRedisEngineForUrl(redisUrl, { prefix });
    reporter = createReporter(engine);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all([gatewayA?.stop(), gatewayB?.stop(), api?.stop(), worker?.stop()]);
    await engine?.close();
  });

  it('delivers a reporter call to a client on node A, and the same frame to one on node B', async () => {
    const onA = await client(portA, 'user_id=u1&project_id=p1');
    const onB = await client(portB, 'user_id=u9&project_id=p9');
    const taskId = `task-${randomUUID()}`;
    for (const c of [onA, onB]) {
      c.send({ action: 'subscribe', task_id: taskId, request_id: 's1' });
      await c.next((f) => f.type === 'ack' && f.task_id === taskId);
    }
    await reporter.notifyTaskStart(taskId, 'u1', 'p1');
    await reporter.updateProgressWithSteps(taskId, '视频转码', 2, 4, '正在转码视频...');
    const seenA = await onA.next((f) => f.type === 'progress' && f.task_id === taskId);
    const seenB = await onB.next((f) => f.type === 'progress' && f.task_id === taskId);
    expect(seenA).toEqual(seenB);
    expect(seenA).toMatchObject({ offset: 2, payload: { progress: 50, current_step: '视频转码', completed_steps: 2, total_steps: 4, status: 'running' } });
    const status = await onA.next((f) => f.type === 'status' && f.task_id === taskId);
    expect(status).toMatchObject({ offset: 1, payload: { status: 'running' } });
  });

  it('runs a demo job posted to the API on the worker and shows its four steps on node B', async () => {
    const watcher = await client(portB, 'user_id=demo-user');
    const { status, json } = await post('/api/v1/demo/jobs', { user_id: 'demo-user', project_id: 'demo-project' });
    expect(status).toBeLessThan(300);
    watcher.send({ action: 'subscribe', task_id: json.task_id });
    const done = await watcher.next((f) => f.type === 'status' && f.task_id === json.task_id && f.payload.status === 'completed', 20_000);
    expect(done.payload.result).toHaveProperty('video_url');
    const history = await get(`/api/v1/progress/${json.task_id}/history?limit=100`);
    const kinds = history.json.items.map((f: any) => (f.type === 'status' ? f.payload.status : f.payload.current_step)).reverse();
    expect(kinds).toEqual(['running', '下载视频', '视频转码', '生成缩略图', '上传视频', 'completed']);
  });

  it('sends a user broadcast to that user on both nodes, and to no one else', async () => {
    const [a, b, other] = [await client(portA, 'user_id=alice'), await client(portB, 'user_id=alice'), await client(portA, 'user_id=bob')];
    const sent = await post('/api/v1/broadcast/user/alice', { task_id: 'task-456', progress: 50, message: '处理中...' });
    expect(sent.status).toBeLessThan(300);
    for (const c of [a, b]) {
      const frame = await c.next((f) => f.scope === 'user' && f.task_id === 'task-456');
      expect(frame.payload).toMatchObject({ progress: 50, message: '处理中...' });
    }
    // Pub/sub keeps order per connection: had bob been sent alice's frame, it would come before his own.
    await post('/api/v1/broadcast/user/bob', { task_id: 'task-bob', progress: 1, message: 'only bob' });
    await other.next((f) => f.task_id === 'task-bob');
    expect(other.frames.filter((f) => f.scope === 'user').map((f) => f.task_id)).toEqual(['task-bob']);
  });

  it('sends a project broadcast to that project on both nodes, and to no one else', async () => {
    const [a, b, other] = [
      await client(portA, 'user_id=x1&project_id=project-789'),
      await client(portB, 'user_id=x2&project_id=project-789'),
      await client(portB, 'user_id=x3&project_id=project-101'),
    ];
    await post('/api/v1/broadcast/project/project-789', { task_id: 'task-456', progress: 75, message: '即将完成' });
    for (const c of [a, b]) await c.next((f) => f.scope === 'project' && f.payload.message === '即将完成');
    await post('/api/v1/broadcast/project/project-101', { task_id: 'task-101', progress: 5, message: 'only 101' });
    await other.next((f) => f.task_id === 'task-101');
    expect(other.frames.filter((f) => f.scope === 'project').map((f) => f.task_id)).toEqual(['task-101']);
  });

  it('keeps at most 100 history entries, newest first', async () => {
    const taskId = `task-${randomUUID()}`;
    await reporter.notifyTaskStart(taskId, 'u1', 'p1');
    for (let i = 1; i <= 120; i++) await reporter.updateProgress(taskId, Math.min(100, i * 0.8), `step ${i}`);
    const { status, json } = await get(`/api/v1/progress/${taskId}/history?limit=100`);
    expect(status).toBe(200);
    expect(json.items).toHaveLength(100);
    const offsets = json.items.map((f: any) => f.offset);
    expect(offsets[0]).toBe(121);
    expect(offsets).toEqual([...offsets].sort((x: number, y: number) => y - x));
    expect((await get(`/api/v1/progress/${taskId}/history?limit=101`)).status).toBe(400);
  });

  it('answers malformed frames with an error frame and stays usable', async () => {
    const c = await client(portA, 'user_id=u1');
    for (const bad of ['not json', '[]', '{"action":"explode"}', '{"action":"subscribe","task_id":"bad id"}']) {
      const before = c.frames.length;
      c.send(bad);
      const error = await c.next((f) => f.type === 'error' && c.frames.indexOf(f) >= before);
      expect(error.payload.message).toBeTruthy();
    }
    const taskId = `task-${randomUUID()}`;
    c.send({ action: 'subscribe', task_id: taskId });
    await c.next((f) => f.type === 'ack' && f.task_id === taskId);
    await reporter.updateProgress(taskId, 10, 'still works');
    await c.next((f) => f.type === 'progress' && f.task_id === taskId);
  });

  it("runs the guide's client snippet verbatim", async () => {
    const progress: any[] = [];
    const statuses: any[] = [];
    const guide = runConnectSnippet(`127.0.0.1:${portA}`, {
      updateProgress: (p) => progress.push(p),
      updateStatus: (p) => statuses.push(p),
    });
    const frames: any[] = [];
    guide.ws().on('message', (data) => frames.push(JSON.parse(data.toString())));
    await waitFor('the connected frame', () => frames.find((f) => f.type === 'connected'));
    const taskId = `task-${randomUUID()}`;
    const acked = (action: string) => frames.some((f) => f.type === 'ack' && f.action === action && f.task_id === taskId);
    guide.subscribeTask(taskId);
    await waitFor('the subscribe ack', () => acked('subscribe'));
    await reporter.notifyTaskStart(taskId, 'user-123', 'project-456');
    await reporter.updateProgress(taskId, 40, '处理中');
    await waitFor('progress in the guide client', () => progress.find((p) => p.progress === 40));
    expect(statuses[0]).toMatchObject({ task_id: taskId, status: 'running' });
    guide.unsubscribeTask!(taskId);
    await waitFor('the unsubscribe ack', () => acked('unsubscribe'));
    await reporter.updateProgress(taskId, 60, 'after unsubscribe');
    // One subscriber connection keeps publish order: a leaked task frame would arrive before this broadcast.
    await reporter.broadcastToUser('user-123', 'marker', { progress: 99, message: 'marker' });
    await waitFor('the marker broadcast', () => progress.find((p) => p.task_id === 'marker'));
    expect(progress.map((p) => p.progress)).toEqual([40, 99]);
    guide.ws().close();
  });

  it('sums websocket stats over both nodes and forgets a killed node', async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients.length = 0;
    await client(portA, 'user_id=s1&project_id=sp');
    await client(portA, 'user_id=s1&project_id=sp');
    await client(portB, 'user_id=s2&project_id=sp');
    const both = await waitFor('both nodes counted', async () => {
      const { json } = await get('/api/v1/websocket/stats');
      return json.total_clients === 3 && json.by_user.s1 === 2 && json.by_user.s2 === 1 ? json : null;
    });
    expect(both.by_project.sp).toBe(3);
    await gatewayB.kill();
    const after = await waitFor('node B forgotten', async () => {
      const { json } = await get('/api/v1/websocket/stats');
      return json.total_clients === 2 ? json : null;
    }, 10 * HEARTBEAT_MS + 5000);
    expect(after.by_user).toEqual({ s1: 2 });
  });
});
