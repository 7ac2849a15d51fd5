/** The API's cluster entry point as a real process: configuration errors, listening on Redis, SIGTERM. */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort, startTsProcess, type ManagedProcess } from '@taskpulse/testkit';
import { uniquePrefix } from '@taskpulse/testkit/engines';

const main = new URL('../src/main.ts', import.meta.url).pathname;
const processes: ManagedProcess[] = [];

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
});

function exitCode(p: ManagedProcess): Promise<number | null> {
  if (p.child.exitCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((resolve) => p.child.once('exit', (code) => resolve(code)));
}

describe('api main.ts', () => {
  it.each([
    [{ REDIS_URL: 'redis://127.0.0.1:1', AUTH_MODE: '' }, /AUTH_MODE must be one of jwt, insecure \(required\), got nothing/],
    [{ REDIS_URL: 'redis://127.0.0.1:1', AUTH_MODE: 'jwt' }, /JWT_SECRET must be exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/],
    [{ REDIS_URL: 'redis://127.0.0.1:1', AUTH_MODE: 'insecure', API_KEYS: '{"id":1}' }, /API_KEYS must be a JSON array .*not an array/],
    [{ REDIS_URL: '', AUTH_MODE: 'insecure' }, /REDIS_URL must be a Redis URL like redis:\/\/host:6379 \(required\), got nothing/],
    [{ REDIS_URL: 'redis://127.0.0.1:1', AUTH_MODE: 'insecure', PORT: '99999' }, /PORT must be a whole number from 1 to 65535, got "99999"/],
    [{ REDIS_URL: 'redis://127.0.0.1:1', AUTH_MODE: 'insecure', BRIDGE_QUEUES: 'a,video_processing' }, /BRIDGE_QUEUES must be a list without the demo queue video_processing/],
    [{ REDIS_URL: 'redis://127.0.0.1:1', AUTH_MODE: 'insecure', LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error/],
  ])('exits 1 naming the variable for %j', async (env, message) => {
    const p = startTsProcess(main, env);
    processes.push(p);
    expect(await exitCode(p)).toBe(1);
    expect(p.output()).toMatch(message);
  });

  it('listens, serves over real HTTP, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const prefix = uniquePrefix();
    const api = startTsProcess(main, { REDIS_URL: inject('redisUrl'), PORT: String(port), KEY_PREFIX: prefix, LOG_LEVEL: 'warn', AUTH_MODE: 'insecure' });
    processes.push(api);
    await api.waitForOutput(/api listening on/, 30_000);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const started = await fetch(`${base}/api/v1/tasks/main-task/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'user-123' }),
    });
    expect(started.status).toBe(201);
    const latest = (await (await fetch(`${base}/api/v1/progress/main-task`)).json()) as Record<string, unknown>;
    expect(latest).toMatchObject({ task_id: 'main-task', status: 'running', user_id: 'user-123', offset: 1 });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('taskpulse_api_process_cpu_seconds_total');
    expect(await api.stop()).toBe(0);
  });
});
