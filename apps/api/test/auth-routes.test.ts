/** jwt mode through inject: API keys and scopes on writes and stats, bearer tokens and the per-task rule on reads. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createMemoryEngine } from '@taskpulse/engine';
import { build } from '../src/build';
import { JWT_AUTH, KEYS, mintToken } from './auth-helpers';

let app: FastifyInstance;
const engine = createMemoryEngine({ prefix: 'auth' });

beforeAll(async () => {
  app = await build({ engine, auth: JWT_AUTH });
  const key = { 'x-api-key': KEYS.publish };
  await app.inject({ method: 'POST', url: '/api/v1/tasks/t-alice/start', headers: key, payload: { user_id: 'alice', project_id: 'p-1' } });
  await app.inject({ method: 'POST', url: '/api/v1/tasks/t-bob/start', headers: key, payload: { user_id: 'bob', project_id: 'p-2' } });
});

afterAll(async () => {
  await app.close();
  await engine.close();
});

const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, payload?: object) =>
  app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });

describe('API keys in jwt mode', () => {
  const writes: [string, object | undefined][] = [
    ['/api/v1/tasks/w1/start', {}],
    ['/api/v1/progress/w1', { progress: 10 }],
    ['/api/v1/tasks/w1/complete', {}],
    ['/api/v1/broadcast/user/alice', { task_id: 'w1', progress: 1 }],
    ['/api/v1/broadcast/project/p-1', { task_id: 'w1', progress: 1 }],
    ['/api/v1/demo/jobs', {}],
    ['/api/v1/events', { events: [{ type: 'progress', task_id: 'w1', progress: 10 }] }],
  ];

  it.each(writes)('POST %s: 401 without a key or with an unknown one, 403 with a key of another scope', async (url, body) => {
    const none = await call('POST', url, {}, body);
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('X-API-Key') } });
    const unknown = await call('POST', url, { 'x-api-key': 'nope' }, body);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error.message).toBe('the X-API-Key header does not name a known API key');
    for (const scope of ['read', 'admin'] as const) {
      const wrong = await call('POST', url, { 'x-api-key': KEYS[scope] }, body);
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json()).toEqual({ error: { code: 'forbidden', message: `API key ${scope}-key lacks the publish scope this endpoint needs` } });
    }
  });

  it('a publish key publishes (demo jobs answer 404 here only because this app has none)', async () => {
    const key = { 'x-api-key': KEYS.publish };
    expect((await call('POST', '/api/v1/tasks/w2/start', key, {})).statusCode).toBe(201);
    expect((await call('POST', '/api/v1/progress/w2', key, { progress: 5 })).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/broadcast/user/alice', key, { task_id: 'w2', progress: 1 })).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/demo/jobs', key, {})).statusCode).toBe(404);
  });

  it.each(['/api/v1/progress/stats', '/api/v1/websocket/stats'])('GET %s is admin only', async (url) => {
    expect((await call('GET', url)).statusCode).toBe(401);
    expect((await call('GET', url, { 'x-api-key': KEYS.publish })).json().error.code).toBe('forbidden');
    expect((await call('GET', url, { authorization: `Bearer ${await mintToken('alice')}` })).statusCode).toBe(401);
    expect((await call('GET', url, { 'x-api-key': KEYS.admin })).statusCode).toBe(200);
  });

  it('health, readiness, metrics and the demo page stay open (probes; keep /metrics on a private network)', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/']) expect((await call('GET', url)).statusCode).toBe(200);
  });
});

describe('REST reads in jwt mode', () => {
  const reads = ['/api/v1/progress/t-alice', '/api/v1/progress/t-alice/history?limit=5'];
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it.each(reads)('GET %s: 401 without credentials, with a malformed header or a bad token', async (url) => {
    for (const headers of [{}, { authorization: 'Basic abc' }, bearer('not.a.jwt'), bearer(await mintToken('alice', {}, -10))]) {
      const res = await call('GET', url, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('names why a token was refused in `reason`, as the gateway does', async () => {
    const reasons = async (headers: Record<string, string>) => (await call('GET', reads[0]!, headers)).json().error;
    expect(await reasons({})).toMatchObject({ code: 'unauthorized', reason: 'missing' });
    expect(await reasons({ authorization: 'Token abc' })).toMatchObject({ reason: 'malformed' });
    expect(await reasons(bearer(await mintToken('alice', {}, -60)))).toEqual({
      code: 'unauthorized',
      reason: 'expired',
      message: 'the bearer token was refused: the token has expired; get a new one',
    });
    expect(await reasons(bearer(`${(await mintToken('alice')).slice(0, -4)}AAAA`))).toMatchObject({ reason: 'bad_signature' });
  });

  it.each(reads)('GET %s: the owner, a project member and a granted token read; others get 403', async (url) => {
    expect((await call('GET', url, bearer(await mintToken('alice')))).statusCode).toBe(200);
    expect((await call('GET', url, bearer(await mintToken('carol', { project_id: 'p-1' })))).statusCode).toBe(200);
    expect((await call('GET', url, bearer(await mintToken('carol', { projects: ['p-9', 'p-1'] })))).statusCode).toBe(200);
    expect((await call('GET', url, bearer(await mintToken('carol', { tasks: ['t-alice'] })))).statusCode).toBe(200);
    const foreign = await call('GET', url, bearer(await mintToken('bob', { project_id: 'p-2', tasks: ['t-bob'] })));
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error).toEqual({ code: 'forbidden', message: 'task t-alice is not visible to this token (or does not exist)' });
  });

  it('an unknown task gets the same answer as a foreign one (no existence oracle)', async () => {
    const token = bearer(await mintToken('bob'));
    const foreign = await call('GET', '/api/v1/progress/t-alice', token);
    const unknown = await call('GET', '/api/v1/progress/t-nobody', token);
    expect(unknown.statusCode).toBe(foreign.statusCode);
    expect(unknown.json().error.message.replace('t-nobody', 'X')).toBe(foreign.json().error.message.replace('t-alice', 'X'));
    const history = await call('GET', '/api/v1/progress/t-nobody/history', token);
    expect(history.statusCode).toBe(403);
  });

  it('an API key with the read scope reads every task; other keys get 403', async () => {
    expect((await call('GET', reads[0]!, { 'x-api-key': KEYS.read })).json()).toMatchObject({ task_id: 't-alice', user_id: 'alice' });
    expect((await call('GET', '/api/v1/progress/t-nobody', { 'x-api-key': KEYS.read })).statusCode).toBe(404);
    expect((await call('GET', reads[1]!, { 'x-api-key': KEYS.publish })).json().error.code).toBe('forbidden');
    expect((await call('GET', reads[0]!, { 'x-api-key': 'wrong', ...bearer(await mintToken('alice')) })).statusCode).toBe(401);
  });

  it('answers 401 before validating the input', async () => {
    expect((await call('GET', '/api/v1/progress/bad%20id')).statusCode).toBe(401);
    expect((await call('POST', '/api/v1/progress/w1', {}, { progress: 'x' })).statusCode).toBe(401);
  });
});
