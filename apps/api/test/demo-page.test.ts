/** GET / and /dashboard.js: the dashboard shell and its bundled script, with a CSP that admits only this origin's script. */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build } from '../src/build';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('GET /', () => {
  it('serves the page as HTML without inline script or any external resource', async () => {
    app = await build();
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toMatch(/^<!doctype html>/);
    expect(res.body).toContain('Start demo job');
    // Self-contained: the one script is this origin's bundle; other URLs are data: URLs.
    const urls = [...res.body.matchAll(/(?:src|href)="([^"]*)"/g)].map((match) => match[1]);
    expect(urls.filter((url) => !url!.startsWith('data:'))).toEqual(['/dashboard.js']);
    expect(res.body).not.toMatch(/<script>/);
    expect(res.body).not.toMatch(/https?:\/\//);
  });

  it("allows this origin's script, WebSockets anywhere, and nothing else by default", async () => {
    app = await build();
    const csp = String((await app.inject('/')).headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).not.toContain('unsafe-eval');
  });

  it('answers even while the engine is not ready (it needs none)', async () => {
    app = await build({ redisUrl: 'redis://127.0.0.1:1', cleanupIntervalMs: 0 });
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    expect((await app.inject('/')).statusCode).toBe(200);
    expect((await app.inject('/dashboard.js')).statusCode).toBe(200);
  });
});

describe('GET /dashboard.js', () => {
  it('is the dashboard bundled with @taskpulse/client for browsers, built once per process', async () => {
    app = await build();
    const first = await app.inject('/dashboard.js');
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(first.headers['content-security-policy']).toContain("script-src 'self'");
    // The client's code is inside (its reconnect rules), and nothing of Node is.
    expect(first.body).toContain('old_client_id');
    expect(first.body).not.toMatch(/\brequire\(|node:|Buffer\./);
    const second = await app.inject('/dashboard.js');
    expect(second.body).toBe(first.body);
  });
});
