/**
 * `curl /metrics` on each process of the cluster (gateway, API, worker; real processes on one private
 * Redis) before and after a demo run: the metrics the operations docs promise are there, named
 * `taskpulse_<part>_<name>_<unit>`, with the same process metrics in every process, and they move.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { METRIC_NAME } from '@taskpulse/metrics';
import { connectClient, freePort, startTsProcess, type ManagedProcess, type TestClient } from '@taskpulse/testkit';

const root = new URL('../../', import.meta.url).pathname;
const processes: ManagedProcess[] = [];
const clients: TestClient[] = [];
let urls: { gateway: string; api: string; worker: string };
let queue: string;

/** One sample's value from Prometheus text, or undefined; `labels` must match exactly, in order. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

function names(text: string): string[] {
  return [...new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!))];
}

beforeAll(async () => {
  const prefix = `met${randomUUID().slice(0, 8)}`;
  queue = `${prefix}-video`;
  const env = { REDIS_URL: inject('redisUrl'), KEY_PREFIX: prefix, LOG_LEVEL: 'warn', AUTH_MODE: 'insecure', HEARTBEAT_INTERVAL_MS: '300' };
  const [gatewayPort, apiPort, workerPort] = [await freePort(), await freePort(), await freePort()];
  urls = { gateway: `http://127.0.0.1:${gatewayPort}`, api: `http://127.0.0.1:${apiPort}`, worker: `http://127.0.0.1:${workerPort}` };
  const gateway = startTsProcess(`${root}apps/gateway/src/main.ts`, { ...env, PORT: String(gatewayPort) });
  const api = startTsProcess(`${root}apps/api/src/main.ts`, { ...env, PORT: String(apiPort), DEMO_QUEUE: queue });
  const worker = startTsProcess(`${root}apps/worker/src/main.ts`, { ...env, QUEUE_NAME: queue, STEP_DELAY_MS: '20', METRICS_PORT: String(workerPort) });
  processes.push(gateway, api, worker);
  await Promise.all([
    gateway.waitForOutput(/gateway listening on/),
    api.waitForOutput(/api listening on/),
    worker.waitForOutput(/worker ready/),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(processes.map((p) => p.stop()));
});

describe('metrics of every process during a demo run', () => {
  it('names every metric taskpulse_<part>_<name>, with the same process and engine metrics in each process', async () => {
    for (const [processName, base] of Object.entries(urls)) {
      const text = await scrape(base);
      expect(names(text).filter((name) => !METRIC_NAME.test(name)), processName).toEqual([]);
      expect(sample(text, 'taskpulse_process_cpu_seconds_total'), processName).toBeGreaterThan(0);
      expect(sample(text, 'taskpulse_nodejs_eventloop_lag_seconds'), processName).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'taskpulse_engine_redis_reconnects_total', '{connection="commands"}'), processName).toBe(0);
      expect(text, processName).toContain('# TYPE taskpulse_engine_redis_command_errors_total counter');
    }
    expect(sample(await scrape(urls.gateway), 'taskpulse_gateway_ready')).toBe(1);
    for (const path of ['/healthz', '/readyz']) expect((await fetch(`${urls.worker}${path}`)).status).toBe(200);
  });

  it('moves the gateway, API and worker metrics when a demo job runs and a client resumes', async () => {
    const before = { gateway: await scrape(urls.gateway), api: await scrape(urls.api), worker: await scrape(urls.worker) };
    const wsUrl = `${urls.gateway.replace('http', 'ws')}/api/v1/ws?user_id=metrics-user`;
    const watcher = await connectClient(wsUrl);
    clients.push(watcher);
    const posted = await fetch(`${urls.api}/api/v1/demo/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'metrics-user' }),
    });
    expect(posted.status).toBe(202);
    const { task_id: taskId } = (await posted.json()) as { task_id: string };
    watcher.send({ action: 'subscribe', task_id: taskId });
    const done = await watcher.next((f) => f.type === 'status' && f.task_id === taskId && f.payload.status === 'completed', 20_000);

    // A second client resumes from the last position it "saw": nothing missed, so recovered.
    const resumer = await connectClient(wsUrl);
    clients.push(resumer);
    resumer.send({ action: 'subscribe', task_id: taskId, offset: done.offset, epoch: done.epoch, request_id: 'r1' });
    const ack = await resumer.next((f) => f.type === 'ack' && f.request_id === 'r1');
    expect(ack.recovered ?? ack.payload?.recovered).toBe(true);

    const after = { gateway: await scrape(urls.gateway), api: await scrape(urls.api), worker: await scrape(urls.worker) };
    const moved = (text: keyof typeof after, name: string, labels = '') =>
      (sample(after[text], name, labels) ?? 0) - (sample(before[text], name, labels) ?? 0);

    const taskFrames = watcher.frames.filter((f) => f.task_id === taskId && f.offset !== undefined);
    // Frames before the subscription joined its topic (the state, and what passed its handover) are sent to
    // the one socket, not fanned out; the rest of the task's frames were fanned out, each with its bytes.
    const fannedOut = moved('gateway', 'taskpulse_gateway_frames_fanned_out_total', '{kind="task"}');
    expect(fannedOut).toBeGreaterThanOrEqual(1);
    expect(fannedOut).toBeLessThanOrEqual(taskFrames.length);
    expect(moved('gateway', 'taskpulse_gateway_fanned_out_bytes_total', '{kind="task"}')).toBeGreaterThan(100 * fannedOut);
    expect(moved('gateway', 'taskpulse_gateway_resumes_total', '{result="recovered"}')).toBe(1);
    expect(sample(after.gateway, 'taskpulse_gateway_connections')).toBe(2);
    // The latency histogram counts frames that carry published_at (one task frame in eight is sampled, the first always).
    const latencyCount = moved('gateway', 'taskpulse_gateway_delivery_latency_seconds_count', '{kind="task"}');
    if (taskFrames.some((f) => typeof f.published_at === 'number')) expect(latencyCount).toBeGreaterThanOrEqual(1);
    else expect(latencyCount).toBe(0);

    expect(moved('api', 'taskpulse_api_http_request_duration_seconds_count', '{method="POST",route="/api/v1/demo/jobs",status_code="202"}')).toBe(1);
    expect(moved('api', 'taskpulse_api_demo_jobs_total', '{mode="queue"}')).toBe(1);

    expect(moved('worker', 'taskpulse_worker_jobs_total', `{queue="${queue}",outcome="completed"}`)).toBe(1);
    expect(moved('worker', 'taskpulse_worker_job_duration_seconds_count', `{queue="${queue}"}`)).toBe(1);
    expect(moved('worker', 'taskpulse_process_cpu_seconds_total')).toBeGreaterThan(0);
  }, 40_000);
});
