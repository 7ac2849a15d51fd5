/**
 * `npm start` as a real child process on a free port: the guide's flow end to end. A ws client connects,
 * posts a demo job over REST on the same port, subscribes, and sees running, the four steps and completed.
 * Without REDIS_URL (memory engine, in-process jobs) and with it (Redis engine, BullMQ queue and worker).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort, startTsProcess, waitFor, type ManagedProcess, connectClient, type TestClient } from '@taskpulse/testkit';

const startFile = new URL('../../start.ts', import.meta.url).pathname;
const STEPS = ['下载视频', '视频转码', '生成缩略图', '上传视频'];
let proc: ManagedProcess | undefined;
let client: TestClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  if (proc) expect(await proc.stop()).toBe(0);
  proc = undefined;
});

async function runGuideFlow(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  proc = startTsProcess(startFile, { PORT: String(port), LOG_LEVEL: 'warn', STEP_DELAY_MS: '500', HEARTBEAT_INTERVAL_MS: '200', ...env });
  const banner = await proc.waitForOutput(/taskpulse listening on \S+/, 30_000);
  expect(banner).toContain(`http://localhost:${port}`);
  expect(proc.output()).toContain(`curl -s -X POST http://localhost:${port}/api/v1/demo/jobs`);
  const base = `http://127.0.0.1:${port}`;

  client = await connectClient(`ws://127.0.0.1:${port}/api/v1/ws?user_id=user-123&project_id=project-456`);
  const posted = await fetch(`${base}/api/v1/demo/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: 'user-123', project_id: 'project-456' }),
  });
  expect(posted.status).toBe(202);
  const { task_id: taskId } = (await posted.json()) as { task_id: string };
  client.send({ action: 'subscribe', task_id: taskId });
  await client.next((f) => f.type === 'ack' && f.task_id === taskId);
  await client.next((f) => f.type === 'status' && f.task_id === taskId && f.payload.status === 'completed', 20_000);

  const frames = client.frames.filter((f) => f.task_id === taskId && (f.type === 'progress' || f.type === 'status'));
  const offsets = frames.map((f) => f.offset);
  expect(offsets).toEqual([...new Set(offsets)].sort((a, b) => a - b));
  expect(frames[0]).toMatchObject({ type: 'status', payload: { status: 'running' } });
  expect(frames.filter((f) => f.type === 'progress').map((f) => f.payload.current_step)).toEqual(STEPS);
  expect(frames.at(-1)!.payload.result).toEqual({ video_url: `https://example.com/videos/${taskId}.mp4` });

  const history = (await (await fetch(`${base}/api/v1/progress/${taskId}/history?limit=100`)).json()) as { items: any[] };
  expect(history.items.map((f) => f.offset)).toEqual([6, 5, 4, 3, 2, 1]);
  const stats = await waitFor('the gateway to report its connection', async () => {
    const body = (await (await fetch(`${base}/api/v1/websocket/stats`)).json()) as { total_clients: number; by_user: Record<string, number> };
    return body.total_clients === 1 ? body : null;
  });
  expect(stats.by_user).toEqual({ 'user-123': 1 });
  return base;
}

/** The REST side of the shared port: bodies read in chunks, the body limit, errors in the API's shape. */
async function checkForwarding(base: string): Promise<void> {
  const chunked = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"user_id":'));
      controller.enqueue(new TextEncoder().encode('"chunky"}'));
      controller.close();
    },
  });
  const started = await fetch(`${base}/api/v1/tasks/fwd-1/start?x=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chunked,
    duplex: 'half',
  } as RequestInit);
  expect(started.status).toBe(201);
  expect(((await (await fetch(`${base}/api/v1/progress/fwd-1`)).json()) as { user_id: string }).user_id).toBe('chunky');
  const huge = await fetch(`${base}/api/v1/tasks/fwd-1/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ result: 'x'.repeat(300_000) }),
  });
  expect(huge.status).toBe(413);
  expect(((await huge.json()) as { error: { field: string } }).error.field).toBe('body');
  const bad = await fetch(`${base}/api/v1/progress/fwd-1/history?limit=0`);
  expect(bad.status).toBe(400);
  expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
}

describe('apps/start.ts', () => {
  it('runs the guide flow on the memory engine with in-process jobs', async () => {
    await checkForwarding(await runGuideFlow({ REDIS_URL: '' }));
  });

  it('runs the guide flow on Redis with the BullMQ queue and worker in the same process', async () => {
    const suffix = randomUUID().slice(0, 8);
    await runGuideFlow({ REDIS_URL: inject('redisUrl'), KEY_PREFIX: `t${suffix}`, DEMO_QUEUE: `q${suffix}` });
  });

  it('refuses a bad PORT naming the variable', async () => {
    proc = startTsProcess(startFile, { PORT: 'eighty', REDIS_URL: '' });
    if (proc.child.exitCode === null) await new Promise((resolve) => proc!.child.once('exit', resolve));
    expect(proc.child.exitCode).toBe(1);
    expect(proc.output()).toMatch(/PORT must be a whole number/);
    proc = undefined;
  });
});
