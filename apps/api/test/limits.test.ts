/** The API's own limits: request body size (API_BODY_LIMIT_BYTES → bodyLimit) and the history page size. */
import { describe, expect, it } from 'vitest';
import { createMemoryEngine } from '@taskpulse/engine';
import { LIMITS } from '@taskpulse/protocol';
import { build } from '../src/build';
import { loadApiConfig } from '../src/config';

describe('API limits', () => {
  it('refuses a body over the configured limit with 413 and accepts one under it', async () => {
    const { bodyLimit } = loadApiConfig({ AUTH_MODE: 'insecure', API_BODY_LIMIT_BYTES: '2048' });
    const app = await build({ engine: createMemoryEngine({ prefix: 'lim' }), bodyLimit });
    try {
      await app.inject({ method: 'POST', url: '/api/v1/tasks/b1/start', payload: {} });
      const under = await app.inject({ method: 'POST', url: '/api/v1/progress/b1', payload: { progress: 1, message: 'x'.repeat(1500) } });
      expect(under.statusCode).toBe(200);
      const over = await app.inject({ method: 'POST', url: '/api/v1/tasks/b1/complete', payload: { result: 'x'.repeat(2100) } });
      expect(over.statusCode).toBe(413);
      expect(over.json()).toEqual({ error: { code: 'bad_request', message: expect.stringContaining('Request body is too large'), field: 'body' } });
    } finally {
      await app.close();
    }
  });

  it(`caps a history page at ${LIMITS.historyEntries} entries`, async () => {
    const app = await build({ engine: createMemoryEngine({ prefix: 'lim2' }) });
    try {
      await app.inject({ method: 'POST', url: '/api/v1/tasks/h1/start', payload: {} });
      expect((await app.inject({ method: 'GET', url: `/api/v1/progress/h1/history?limit=${LIMITS.historyEntries}` })).statusCode).toBe(200);
      const over = await app.inject({ method: 'GET', url: `/api/v1/progress/h1/history?limit=${LIMITS.historyEntries + 1}` });
      expect(over.statusCode).toBe(400);
      expect(over.json().error).toMatchObject({ code: 'bad_request', field: 'limit' });
    } finally {
      await app.close();
    }
  });
});
