/**
 * The gateway's plain HTTP routes: `/healthz` (200 while the process runs), `/readyz` (200 only while the
 * engine is ready and the gateway listens and is not draining, else 503), `/metrics` (Prometheus text),
 * and everything else to the `fallback` handler or a JSON 404.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { registerReadyGauge, type GatewayMetrics } from './metrics';
import { sendJson, sendText, type HttpHandler } from './http-reply';

export interface Readiness {
  engine: boolean;
  listening: boolean;
  draining: boolean;
}

export interface HttpRoutesContext {
  registry: Registry;
  metrics: GatewayMetrics;
  logger: Logger;
  readiness(): Readiness;
  fallback?: HttpHandler;
}

/** Registers the health, readiness, metrics and fallback routes on the app. */
export function registerHttpRoutes(app: TemplatedApp, ctx: HttpRoutesContext): void {
  app.get('/healthz', (res) => sendJson(res, '200 OK', { status: 'ok' }));

  const isReady = (state: Readiness) => state.engine && state.listening && !state.draining;
  registerReadyGauge(ctx.registry, () => isReady(ctx.readiness()));
  app.get('/readyz', (res) => {
    const state = ctx.readiness();
    const ready = isReady(state);
    sendJson(res, ready ? '200 OK' : '503 Service Unavailable', { status: ready ? 'ready' : 'not_ready', ...state });
  });

  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    ctx.registry.metrics().then(
      (text) => {
        if (!aborted) sendText(res, '200 OK', ctx.registry.contentType, text);
      },
      (error: unknown) => {
        ctx.logger.error({ err: error }, 'collecting metrics failed');
        ctx.metrics.countError('internal');
        if (!aborted) sendJson(res, '500 Internal Server Error', { error: { code: 'internal', message: 'collecting metrics failed' } });
      },
    );
  });

  app.any('/*', ctx.fallback ? guarded(ctx.fallback, ctx) : notFound(ctx.metrics));
}

/** Keeps a failing fallback from taking the process down: logged, counted, answered with 500 if still possible. */
function guarded(fallback: HttpHandler, ctx: HttpRoutesContext): HttpHandler {
  const failed = (res: Parameters<HttpHandler>[0], error: unknown) => {
    ctx.logger.error({ err: error }, 'the fallback HTTP handler failed');
    ctx.metrics.countError('internal');
    try {
      sendJson(res, '500 Internal Server Error', { error: { code: 'internal', message: 'the request could not be handled' } });
    } catch (answerError) {
      // The handler had already answered or the client went away: nothing more can be sent.
      ctx.logger.debug({ err: answerError }, 'could not answer after a fallback failure');
    }
  };
  return (res, req) => {
    try {
      const result = fallback(res, req);
      if (result) result.catch((error: unknown) => failed(res, error));
    } catch (error) {
      failed(res, error);
    }
  };
}

function notFound(metrics: GatewayMetrics): HttpHandler {
  return (res, req) => {
    metrics.countError('not_found');
    const method = req.getCaseSensitiveMethod();
    sendJson(res, '404 Not Found', { error: { code: 'not_found', message: `no route for ${method} ${req.getUrl()}` } });
  };
}
