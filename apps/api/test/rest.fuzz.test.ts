/**
 * Property-based fuzz of every REST route through inject: arbitrary params, query strings, bodies and
 * content types, in insecure mode and in jwt mode with arbitrary credentials. Never a 5xx; every answer is
 * JSON, either the route's success shape or `{"error":{"code","message"}}` with a registered code.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createMemoryEngine, type Engine } from '@taskpulse/engine';
import { ERROR_CODES } from '@taskpulse/protocol';
import { build } from '../src/build';
import type { DemoJobs } from '../src/demo-jobs';
import { INSECURE_AUTH } from '../src/api-auth';
import { JWT_AUTH, KEYS, mintToken } from './auth-helpers';

const RUNS_PER_MODE = 3000;

/** Each route: method, path template (`:id` is filled in), and the keys its success body must have. */
const ROUTES = [
  { method: 'GET', path: '/api/v1/progress/:id', ok: ['task_id', 'status', 'offset', 'epoch'] },
  { method: 'GET', path: '/api/v1/progress/:id/history', ok: ['task_id', 'epoch', 'offset', 'items'] },
  { method: 'GET', path: '/api/v1/progress/stats', ok: [] },
  { method: 'GET', path: '/api/v1/websocket/stats', ok: [] },
  { method: 'POST', path: '/api/v1/tasks/:id/start', ok: ['task_id', 'offset', 'epoch'] },
  { method: 'POST', path: '/api/v1/progress/:id', ok: ['task_id', 'offset', 'epoch'] },
  { method: 'POST', path: '/api/v1/tasks/:id/complete', ok: ['task_id', 'offset', 'epoch'] },
  { method: 'POST', path: '/api/v1/tasks/:id/fail', ok: ['task_id', 'offset', 'epoch'] },
  { method: 'POST', path: '/api/v1/tasks/:id/cancel', ok: ['task_id', 'offset', 'epoch'] },
  { method: 'POST', path: '/api/v1/broadcast/user/:id', ok: ['delivered'] },
  { method: 'POST', path: '/api/v1/broadcast/project/:id', ok: ['delivered'] },
  { method: 'POST', path: '/api/v1/demo/jobs', ok: ['task_id'] },
] as const;

const TASKS = ['t-1', 't-2', 'alice-task'];

const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom(null, -1, 0, 50, 100, 101, 1e308, 'x'.repeat(3000), '', '__proto__', { constructor: { prototype: 1 } }),
);

/** Bodies shaped like the API's (the fields it knows, with hostile values), arbitrary JSON, and broken text. */
const body = fc.oneof(
  fc
    .record(
      {
        progress: fc.oneof(fc.double({ min: -10, max: 110 }), hostile),
        message: fc.oneof(fc.string({ maxLength: 50 }), hostile),
        current_step: hostile,
        completed_steps: fc.oneof(fc.nat(10), hostile),
        total_steps: fc.oneof(fc.nat(10), hostile),
        task_id: fc.oneof(fc.constantFrom(...TASKS), hostile),
        user_id: fc.oneof(fc.constantFrom('alice', 'bob'), hostile),
        project_id: hostile,
        result: hostile,
        error: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), hostile),
        reason: hostile,
        fail_at_step: fc.oneof(fc.integer({ min: 0, max: 5 }), hostile),
        step_ms: hostile,
        extra: hostile,
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.json({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constant(''),
);

const id = fc.oneof(
  fc.constantFrom(...TASKS, 'alice', 'p-1', '..', '%00', '%zz', 'a'.repeat(129), 'a/b'),
  fc.string({ unit: 'binary', maxLength: 140 }).map(encodeURIComponent),
  fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,20}$/),
);

const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.constantFrom('limit', 'token', 'x', 'limit[]'), fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), fc.string({ unit: 'binary', maxLength: 20 }))).map(
    (entries) => `?${Object.entries(entries).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
  ),
  fc.string({ maxLength: 30 }).map((raw) => `?${raw.replace(/[#\s]/g, '')}`),
);

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', undefined);

/** Checks one answer: no 5xx, JSON, and the success shape or the error shape. */
function wellFormed(route: (typeof ROUTES)[number], status: number, text: string): void {
  expect(status, text).toBeLessThan(500);
  const json = JSON.parse(text) as Record<string, any>;
  if (status >= 400) {
    expect(Object.keys(json)).toEqual(['error']);
    expect(Object.keys(ERROR_CODES)).toContain(json.error.code);
    expect(typeof json.error.message).toBe('string');
    return;
  }
  expect(typeof json).toBe('object');
  for (const key of route.ok) expect(json, `${route.path} ${text}`).toHaveProperty(key);
}

describe.each([
  ['insecure', INSECURE_AUTH],
  ['jwt', JWT_AUTH],
] as const)('every REST route under fuzz (%s mode)', (mode, auth) => {
  let engine: Engine;
  let app: FastifyInstance;
  let credentials: fc.Arbitrary<Record<string, string>>;

  beforeAll(async () => {
    engine = createMemoryEngine({ prefix: `fuzz-${mode}` });
    const demoJobs: DemoJobs = { mode: 'fuzz', enqueue: async (input) => ({ task_id: input.task_id }) };
    app = await build({ engine, auth, demoJobs });
    await app.inject({ method: 'POST', url: '/api/v1/tasks/t-1/start', headers: { 'x-api-key': KEYS.publish }, payload: { user_id: 'alice' } });
    const tokens = [await mintToken('alice'), await mintToken('bob', { tasks: ['t-2'] }), await mintToken('carol', {}, -60)];
    credentials = fc.record(
      {
        'x-api-key': fc.oneof(fc.constantFrom(...Object.values(KEYS)), fc.string({ maxLength: 40 })),
        authorization: fc.oneof(fc.constantFrom(...tokens).map((t) => `Bearer ${t}`), fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`), fc.string({ maxLength: 40 })),
      },
      { requiredKeys: [] },
    );
  });

  afterAll(async () => {
    await app.close();
    await engine.close();
  });

  it(`answers ${RUNS_PER_MODE} generated requests with JSON and never a 5xx`, async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), id, query, body, contentType, credentials, async (route, taskId, qs, payload, type, headers) => {
        const printable = Object.fromEntries(Object.entries(headers).filter(([, v]) => /^[\x20-\x7e]*$/.test(v)));
        const res = await app.inject({
          method: route.method,
          url: route.path.replace(':id', taskId) + qs,
          headers: { ...printable, ...(type === undefined ? {} : { 'content-type': type }) },
          ...(route.method === 'POST' ? { payload } : {}),
        });
        statuses.add(res.statusCode);
        wellFormed(route, res.statusCode, res.body);
      }),
      { numRuns: RUNS_PER_MODE },
    );
    // The generators reach both sides: successes and refusals.
    expect([...statuses].some((s) => s < 300)).toBe(true);
    expect([...statuses].some((s) => s >= 400)).toBe(true);
  });
});

it('answers a URL the router cannot decode with the API error body (found by this fuzz)', async () => {
  const app = await build({ engine: createMemoryEngine({ prefix: 'fuzz-url' }) });
  const res = await app.inject({ method: 'GET', url: '/api/v1/progress/%zz' });
  expect(res.statusCode).toBe(400);
  expect(res.json()).toEqual({ error: { code: 'bad_request', message: expect.any(String) } });
  await app.close();
});
