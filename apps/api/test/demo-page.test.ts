/** GET /: the self-contained demo page, with a CSP that admits exactly its own inline script. */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build } from '../src/build';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('GET /', () => {
  it('serves the page as HTML without any external resource', async () => {
    app = await build();
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toMatch(/^<!doctype html>/);
    expect(res.body).toContain('Start demo job');
    // Self-contained: no src= or href= pointing anywhere but a data: URL.
    for (const [, url] of res.body.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^data:/);
    expect(res.body).not.toMatch(/https?:\/\/(?!example\.com)/);
  });

  it('allows its inline script by hash, WebSockets anywhere, and nothing else by default', async () => {
    app = await build();
    const res = await app.inject('/');
    const csp = String(res.headers['content-security-policy']);
    const script = /<script>([\s\S]*?)<\/script>/.exec(res.body)![1]!;
    const hash = createHash('sha256').update(script).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).not.toContain('unsafe-eval');
  });

  it('answers even while the engine is not ready (it needs none)', async () => {
    app = await build({ redisUrl: 'redis://127.0.0.1:1', cleanupIntervalMs: 0 });
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    expect((await app.inject('/')).statusCode).toBe(200);
  });
});
