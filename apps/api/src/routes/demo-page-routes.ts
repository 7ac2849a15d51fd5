/**
 * `GET /`: the live dashboard (apps/api/dashboard: an HTML shell with inline CSS, and its script built on
 * @taskpulse/client). `GET /dashboard.js` is that script, bundled for the browser by esbuild at its first
 * request and kept for the life of the process, so `npm start` needs no build step. Served by Fastify:
 * `npm start` serves both on the gateway's port (through the inject fallback), the cluster API on its own;
 * there `?ws=ws://gateway/api/v1/ws` points the page at the gateway. The CSP admits only this origin's
 * script, inline styles, and WebSockets anywhere.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

const DASHBOARD_DIR = new URL('../../dashboard/', import.meta.url);
const PAGE = readFileSync(new URL('dashboard.html', DASHBOARD_DIR));

/** The page may talk to this origin (REST) and to any WebSocket (the gateway may be on another host). */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self' ws: wss:",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

let bundle: Promise<string> | undefined;

/** The dashboard script bundled for browsers; built once per process (about 100 ms), on first use. */
export function dashboardScript(): Promise<string> {
  bundle ??= (async () => {
    // Loaded only here: processes that never serve the page never load esbuild.
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [new URL('dashboard.ts', DASHBOARD_DIR).pathname],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2020',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  })();
  // A failed build is not cached: the next request tries again (and the error reaches the error handler).
  bundle.catch(() => {
    bundle = undefined;
  });
  return bundle;
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

export const demoPageRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', async (_request, reply) => secure(reply).type('text/html; charset=utf-8').send(PAGE));
  app.get('/dashboard.js', async (_request, reply) => secure(reply).type('text/javascript; charset=utf-8').send(await dashboardScript()));
};
