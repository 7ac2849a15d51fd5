/**
 * `GET /`: the demo page (demo-page.html, self-contained: inline CSS and JS, no external resources). It
 * is read once when this module loads. Served by Fastify, so `npm start` serves it on the gateway's port
 * (through the inject fallback) and the cluster API on its own; there `?ws=ws://gateway/api/v1/ws` points
 * the page at the gateway. The CSP allows only the page's own inline script (by hash) and style.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';

const PAGE = readFileSync(new URL('../demo-page.html', import.meta.url));

function scriptHashes(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (match) => `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`,
  );
  return hashes.join(' ');
}

/** The page may talk to this origin (REST) and to any WebSocket (the gateway may be on another host). */
const CSP = [
  "default-src 'none'",
  `script-src ${scriptHashes(PAGE.toString('utf8'))}`,
  "style-src 'unsafe-inline'",
  "connect-src 'self' ws: wss:",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const demoPageRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(PAGE),
  );
};
