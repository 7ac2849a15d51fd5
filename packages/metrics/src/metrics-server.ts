/**
 * `/metrics`, `/healthz` and `/readyz` for a process that serves no HTTP of its own (the worker), on its
 * own port, with node:http: a scrape now and then needs no framework.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  host?: string;
  /** `/readyz` answers 200 while this returns true, else 503 (default: always ready). */
  ready?: () => boolean;
  /** Where a failed collection is reported. */
  onError?: (error: unknown) => void;
}

export interface MetricsServer {
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/** Starts listening; resolves once the port is bound. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const json = (status: number, body: object) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return json(405, { error: { code: 'method_not_allowed', message: 'only GET is served here' } });
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = options.ready?.() ?? true;
      return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready' });
    }
    if (path !== '/metrics') return json(404, { error: { code: 'not_found', message: 'this port serves /metrics, /healthz and /readyz' } });
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        options.onError?.(error);
        json(500, { error: { code: 'internal', message: 'collecting metrics failed' } });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
