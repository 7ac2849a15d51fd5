/**
 * `GET /api/v1/ws?user_id=…&project_id=…` → WebSocket. Both ids are optional, but an id that is present
 * must be valid, else HTTP 400 with a JSON error naming it. The guide's reconnect URL carries only
 * `old_client_id`: then the identity is restored from that client's session (kept by the gateway for
 * sessionTtlSeconds after it closed) before upgrading, and the new connection restores its task
 * subscriptions (connection.ts); an unknown or expired id connects anonymously.
 * The request object dies when this handler returns, so everything needed is copied out first; an
 * abort handler is registered before any answer, as uWebSockets.js requires, and checked after the wait.
 */
import { randomBytes } from 'node:crypto';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { idProblem, type ErrorCode } from '@taskpulse/protocol';
import type { ConnectionSession, SessionIdentity } from '@taskpulse/engine';
import type { ConnectionIdentity, SocketData } from './connection';
import type { GatewayMetrics } from './metrics';
import { sendJson } from './http-reply';

export interface UpgradeContext {
  metrics: GatewayMetrics;
  /** False while draining: new connections are turned away with 503. */
  accepting(): boolean;
  /** The session a closed connection left behind, or null. */
  loadSession(clientId: string): Promise<ConnectionSession | null>;
  /** Makes the per-socket data for an accepted identity; `resumed` is the session of `old_client_id`, if one was found. */
  createSocketData(identity: ConnectionIdentity, resumed?: ConnectionSession): SocketData;
}

/** A fresh client id: 128 random bits as 32 hex characters, unguessable. */
export function newClientId(): string {
  return randomBytes(16).toString('hex');
}

/** Builds the uWebSockets.js upgrade handler. */
export function createUpgradeHandler(ctx: UpgradeContext) {
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    const secWebSocketKey = req.getHeader('sec-websocket-key');
    const secWebSocketProtocol = req.getHeader('sec-websocket-protocol');
    const secWebSocketExtensions = req.getHeader('sec-websocket-extensions');
    const userId = req.getQuery('user_id');
    const projectId = req.getQuery('project_id');
    const oldClientId = req.getQuery('old_client_id');
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });

    const refuse = (status: string, code: ErrorCode, message: string, field?: string) => {
      if (aborted) return;
      ctx.metrics.countError(code);
      sendJson(res, status, { error: field === undefined ? { code, message } : { code, message, field } });
    };
    for (const [field, value] of [['user_id', userId], ['project_id', projectId], ['old_client_id', oldClientId]] as const) {
      if (value === undefined) continue;
      const problem = idProblem(value);
      if (problem) return refuse('400 Bad Request', 'bad_request', `${field} ${problem}`, field);
    }
    const accept = (who: SessionIdentity, resumed?: ConnectionSession) => {
      if (aborted) return;
      if (!ctx.accepting()) return refuse('503 Service Unavailable', 'unavailable', 'this gateway is draining; connect again to reach another node');
      const identity: ConnectionIdentity = { clientId: newClientId() };
      if (who.userId !== undefined) identity.userId = who.userId;
      if (who.projectId !== undefined) identity.projectId = who.projectId;
      const data = ctx.createSocketData(identity, resumed);
      res.cork(() => {
        res.upgrade(data, secWebSocketKey, secWebSocketProtocol, secWebSocketExtensions, context);
      });
    };
    // Ids given in the URL win; only a bare reconnect URL restores the old identity.
    if (oldClientId === undefined || userId !== undefined || projectId !== undefined) return accept({ userId, projectId });
    if (!ctx.accepting()) return refuse('503 Service Unavailable', 'unavailable', 'this gateway is draining; connect again to reach another node');
    ctx.loadSession(oldClientId).then(
      (session) => (session ? accept(session.who, session) : accept({})),
      () => refuse('503 Service Unavailable', 'unavailable', 'the session of old_client_id could not be read; try again'),
    );
  };
}
