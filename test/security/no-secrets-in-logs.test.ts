/**
 * Nothing secret in logs: an API process and a gateway process (both jwt mode) run at LOG_LEVEL=trace; the test
 * drives them with a JWT, an API key and a distinctive message payload (good and bad credentials, a
 * `?token=` in URLs, a refused body), then greps everything both wrote: none of the three may appear.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, startTsProcess, type ManagedProcess, connectClient } from '@taskpulse/testkit';
import { JWT_ENV, KEYS, mintToken } from '../support/auth-fixtures';

const root = new URL('../../', import.meta.url).pathname;
const processes: ManagedProcess[] = [];

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
});

// Retried: a fresh jwt gateway process sometimes never greets one of its first connections (open, then no
// `connected` frame); an open bug in the async-upgrade path (uWebSockets.js), see the README's known issues.
describe('logs', { retry: 2 }, () => {
  it('never contain a token, an API key or a message payload', async () => {
    const prefix = `s${randomUUID().slice(0, 8)}`;
    const env = { REDIS_URL: inject('redisUrl'), KEY_PREFIX: prefix, LOG_LEVEL: 'trace', HOST: '127.0.0.1' };
    const [apiPort, gatewayPort] = [await freePort(), await freePort()];
    const api = startTsProcess(`${root}apps/api/src/main.ts`, { ...env, ...JWT_ENV, PORT: String(apiPort) });
    const gateway = startTsProcess(`${root}apps/gateway/src/main.ts`, { ...env, AUTH_MODE: 'jwt', JWT_SECRET: JWT_ENV.JWT_SECRET, PORT: String(gatewayPort) });
    processes.push(api, gateway);
    await Promise.all([api.waitForOutput(/api listening on/, 30_000), gateway.waitForOutput(/gateway listening on/, 30_000)]);

    const token = await mintToken('alice', { project_id: 'p-logs' });
    const badToken = `${token.slice(0, -6)}AAAAAA`;
    const payload = `PAYLOAD-${randomUUID()}`;
    const base = `http://127.0.0.1:${apiPort}`;
    const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      (await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) })).status;

    const wsUrl = (query: string) => `ws://127.0.0.1:${gatewayPort}/api/v1/ws?${query}`;
    const key = { 'x-api-key': KEYS.publish };
    expect(await call('POST', '/api/v1/tasks/logs-1/start', key, JSON.stringify({ user_id: 'alice' }))).toBe(201);
    const client = await connectClient(wsUrl(`token=${token}`));
    client.send({ action: 'subscribe', task_id: 'logs-1' });
    await client.next((f) => f.type === 'status' || f.type === 'ack');
    expect(await call('POST', '/api/v1/progress/logs-1', key, JSON.stringify({ progress: 50, message: payload }))).toBe(200);
    await client.next((f) => f.type === 'progress' && f.payload?.message === payload);
    expect(await call('POST', '/api/v1/tasks/logs-1/fail', key, JSON.stringify({ error: payload }))).toBe(200);
    // Refusals: a wrong key, a key in the wrong place, a broken body carrying the payload, a bad token, tokens in URLs.
    expect(await call('POST', '/api/v1/progress/logs-1', { 'x-api-key': `${KEYS.publish}x` }, '{}')).toBe(401);
    expect(await call('POST', `/api/v1/progress/logs-1?api_key=${KEYS.publish}`, {}, '{}')).toBe(401);
    expect(await call('POST', '/api/v1/progress/logs-1', key, `{"progress": "${payload}`)).toBe(400);
    expect(await call('GET', '/api/v1/progress/logs-1', { authorization: `Bearer ${token}` })).toBe(200);
    expect(await call('GET', '/api/v1/progress/logs-1/history', { authorization: `Bearer ${badToken}` })).toBe(401);
    expect(await call('GET', `/api/v1/progress/logs-1?token=${token}`)).toBe(401);
    expect(await call('GET', `/api/v1/nowhere?token=${token}`)).toBe(404);
    expect((await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/ws?token=${token}`)).status).toBeGreaterThanOrEqual(400);
    await client.close();
    // Refused upgrades with a token in the URL: a bad signature, a query identity next to a good token; a refresh frame.
    await expect(connectClient(wsUrl(`token=${badToken}`))).rejects.toThrow(/401/);
    await expect(connectClient(wsUrl(`user_id=alice&token=${token}`))).rejects.toThrow(/400/);
    const again = await connectClient(wsUrl(`token=${token}`));
    again.send({ action: 'refresh', token: badToken });
    again.send({ action: 'subscribe', task_id: 'logs-1' });
    await again.next((f) => f.type === 'error');
    await again.close();

    await Promise.all(processes.map((p) => p.stop()));
    const logs = api.output() + gateway.output();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [token, badToken, token.split('.')[2]!, KEYS.publish, payload]) expect(logs).not.toContain(secret);
  });
});
