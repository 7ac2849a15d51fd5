/**
 * Serves the API on another HTTP server's socket: a uWebSockets.js-style handler that copies the request
 * out synchronously, reads the body (up to the limit), runs it through `app.inject()` and writes the
 * answer in one corked write. The all-in-one process gives it to the gateway as its `fallback`, so one
 * port carries both the WebSocket and the REST API. Typed structurally: the API does not depend on uWS.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from './log-redaction';

/** The parts of a uWebSockets.js HttpRequest read here (valid only until the handler returns). */
export interface FallbackRequest {
  getCaseSensitiveMethod(): string;
  getUrl(): string;
  getQuery(): string | undefined;
  forEach(cb: (key: string, value: string) => void): void;
}

/** The parts of a uWebSockets.js HttpResponse written here. */
export interface FallbackResponse {
  onAborted(handler: () => void): unknown;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): unknown;
  cork(cb: () => void): unknown;
  writeStatus(status: string): unknown;
  writeHeader(key: string, value: string): unknown;
  end(body?: Uint8Array | string): unknown;
  getRemoteAddressAsText(): ArrayBuffer;
}

/** Headers the front server writes itself (or that describe the hop, not the answer). */
const HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

export interface InjectFallbackOptions {
  /** Bytes read at most; one more is passed on so Fastify answers its own 413 (default 128 KiB). */
  bodyLimit?: number;
  logger?: Logger;
}

/** A fallback handler that forwards every request to `app` through inject. */
export function createInjectFallback(app: FastifyInstance, options: InjectFallbackOptions = {}) {
  const bodyLimit = options.bodyLimit ?? 128 * 1024;
  return (res: FallbackResponse, req: FallbackRequest): void => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const query = req.getQuery();
    const url = query ? `${req.getUrl()}?${query}` : req.getUrl();
    const headers: Record<string, string> = {};
    req.forEach((key, value) => {
      headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
    });
    const length = Number(headers['content-length'] ?? 0);
    const chunked = headers['transfer-encoding'] !== undefined;
    // inject frames the body itself (it sets content-length from the payload it is given).
    for (const hop of HOP_HEADERS) delete headers[hop];
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();

    const forward = (payload: Buffer | undefined) => {
      app
        .inject({ method: method as 'GET', url, headers, remoteAddress, ...(payload === undefined ? {} : { payload }) })
        .then((answer) => {
          if (aborted) return;
          res.cork(() => {
            res.writeStatus(`${answer.statusCode} ${STATUS_CODES[answer.statusCode] ?? ''}`.trimEnd());
            for (const [key, value] of Object.entries(answer.headers)) {
              if (value === undefined || HOP_HEADERS.has(key)) continue;
              for (const item of Array.isArray(value) ? value : [value]) res.writeHeader(key, String(item));
            }
            res.end(answer.rawPayload);
          });
        })
        .catch((error: unknown) => {
          // inject itself failing (not a route's error, which Fastify answers) is a bug worth a 500 and a log line.
          options.logger?.error({ err: error, method, url: redactUrl(url) }, 'forwarding a request to the API failed');
          if (!aborted) {
            res.cork(() => {
              res.writeStatus('500 Internal Server Error');
              res.writeHeader('content-type', 'application/json; charset=utf-8');
              res.end('{"error":{"code":"internal","message":"the request could not be handled"}}');
            });
          }
        });
    };

    if (!chunked && !(length > 0)) return forward(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      // The chunk's memory is reused once this callback returns: copy what is kept.
      const room = bodyLimit + 1 - size;
      const piece = Buffer.from(chunk.slice(0, Math.max(0, room)));
      chunks.push(piece);
      size += piece.length;
      if (isLast || size > bodyLimit) {
        done = true;
        forward(Buffer.concat(chunks));
      }
    });
  };
}
