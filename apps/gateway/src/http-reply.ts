/** Small helpers for answering plain HTTP requests on uWebSockets.js, always corked. */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

/** A handler for HTTP routes the gateway does not serve itself (the all-in-one process forwards them to Fastify). */
export type HttpHandler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;

/** Writes a status, a content type and a body in one corked write. */
export function sendText(res: HttpResponse, status: string, contentType: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', contentType).end(body);
  });
}

/** Answers with a JSON body. */
export function sendJson(res: HttpResponse, status: string, body: unknown): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}
