/**
 * `GET /api/v1/ws` → WebSocket. First the Origin header is checked against ALLOWED_ORIGINS (403 JSON).
 *
 * Insecure mode (the guide's): `?user_id=…&project_id=…`, both optional, but an id that is present must be
 * valid, else HTTP 400 naming it. The guide's reconnect URL carries only `old_client_id`: then the
 * identity is restored from that client's session (kept by the gateway for sessionTtlSeconds after it
 * closed) before upgrading, and the new connection restores its task subscriptions (connection.ts); an
 * unknown or expired id connects anonymously.
 *
 * jwt mode: the token comes as `?token=` or `Authorization: Bearer`; the identity is the token's and
 * nothing else. `user_id`/`project_id` query parameters are refused with 400 (never silently trusted or
 * ignored, so a misconfigured client learns at once). A bad token is refused with 401
 * `{"error":{"code":"unauthorized","reason":"<reason>","message":…}}`. With `old_client_id`, the session
 * must have been created by the same `sub`, else 403 `forbidden`. Every refusal is counted by reason.
 *
 * The request object dies when this handler returns, so everything needed is copied out first; an abort
 * handler is registered before any answer, as uWebSockets.js requires, and checked after each wait.
 */
import { randomBytes } from 'node:crypto';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { bearerToken, KeySourceError, originAllowed, TokenError, type VerifiedIdentity } from '@taskpulse/auth';
import { idProblem, type ErrorCode } from '@taskpulse/protocol';
import type { ConnectionSession, SessionIdentity } from '@taskpulse/engine';
import type { ConnectionIdentity, SocketData } from './connection';
import type { GatewayAuth } from './gateway-auth';
import type { GatewayMetrics } from './metrics';
import { sendJson } from './http-reply';

export interface UpgradeContext {
  metrics: GatewayMetrics;
  auth: GatewayAuth;
  /** False while draining: new connections are turned away with 503. */
  accepting(): boolean;
  /** The session a closed connection left behind, or null. */
  loadSession(clientId: string): Promise<ConnectionSession | null>;
  /**
   * Makes the per-socket data for an accepted identity; `resumed` is the session of `old_client_id`, if one
   * was found.
   */
  createSocketData(identity: ConnectionIdentity, resumed: ConnectionSession | undefined): SocketData;
  /** Told about token-source failures (JWKS unreachable), which are the server's, not the client's. */
  onKeySourceError?(error: Error): void;
  /**
   * Runs `fn` inside the cork of some other open socket and returns true, or returns false when no socket is
   * open (then `fn` did not run). Upgrades after an await go through here (see `upgrade` below).
   */
  withBorrowedCork?(fn: () => void): boolean;
  /** Why this identity may not open another connection (its user is at the limit), or undefined. */
  overUserLimit?(identity: ConnectionIdentity): string | undefined;
}

/** A fresh client id: 128 random bits as 32 hex characters, unguessable. */
export function newClientId(): string {
  return randomBytes(16).toString('hex');
}

/** Builds the uWebSockets.js upgrade handler. */
export function createUpgradeHandler(ctx: UpgradeContext) {
  const { auth, metrics } = ctx;
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    const secWebSocketKey = req.getHeader('sec-websocket-key');
    const secWebSocketProtocol = req.getHeader('sec-websocket-protocol');
    const secWebSocketExtensions = req.getHeader('sec-websocket-extensions');
    const origin = req.getHeader('origin');
    const authorization = req.getHeader('authorization');
    const userId = req.getQuery('user_id');
    const projectId = req.getQuery('project_id');
    const oldClientId = req.getQuery('old_client_id');
    const queryToken = req.getQuery('token');
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });

    const refuse = (status: string, code: ErrorCode, message: string, extra: { field?: string; reason?: string } = {}) => {
      if (aborted) return;
      metrics.countError(code);
      if (extra.reason !== undefined) metrics.authRefusals.inc({ reason: extra.reason });
      const { field, reason } = extra;
      sendJson(res, status, { error: { code, ...(reason === undefined ? {} : { reason }), message, ...(field === undefined ? {} : { field }) } });
    };
    const draining = () => refuse('503 Service Unavailable', 'unavailable', 'this gateway is draining; connect again to reach another node');

    if (!originAllowed(auth.settings, origin)) {
      return refuse('403 Forbidden', 'forbidden', `origin ${JSON.stringify(origin.slice(0, 200))} is not allowed (ALLOWED_ORIGINS)`, { reason: 'origin' });
    }
    for (const [field, value] of [['user_id', userId], ['project_id', projectId], ['old_client_id', oldClientId]] as const) {
      if (value === undefined) continue;
      if (auth.jwt && field !== 'old_client_id') {
        return refuse('400 Bad Request', 'bad_request', `${field} is not accepted with AUTH_MODE=jwt: the identity comes from the token`, {
          field,
          reason: 'query_identity',
        });
      }
      const problem = idProblem(value);
      if (problem) return refuse('400 Bad Request', 'bad_request', `${field} ${problem}`, { field });
    }
    const upgrade = (identity: ConnectionIdentity, resumed?: ConnectionSession, later = false) => {
      if (aborted) return;
      if (!ctx.accepting()) return draining();
      const full = ctx.overUserLimit?.(identity);
      if (full !== undefined) return refuse('429 Too Many Requests', 'too_many_connections', full);
      const data = ctx.createSocketData(identity, resumed);
      const upgradeNow = () => res.upgrade(data, secWebSocketKey, secWebSocketProtocol, secWebSocketExtensions, context);
      if (!later) return void res.cork(upgradeNow);
      // After an await, res.cork(upgrade) must not be used: uWebSockets.js's cork() then misses that the socket
      // was upgraded in place and reads stale HTTP state from the WebSocket's memory, which, when a byte there
      // happens to have its "connection: close" bit set, closes the new socket right after open (1006, no
      // frame; uNetworking/uWebSockets#1928, fixed upstream by #1929 but not in the binary we load). While
      // another socket holds the loop's cork, res.cork only runs its callback (no cork, no misread) and still
      // counts as corked for the JavaScript wrapper; with no socket to borrow, upgrade uncorked (correct,
      // but uWebSockets.js prints a "must be corked" warning on stderr).
      if (ctx.withBorrowedCork?.(() => res.cork(upgradeNow))) return;
      upgradeNow();
    };

    if (auth.jwt) {
      const token = queryToken !== undefined && queryToken !== '' ? queryToken : bearerToken(authorization || undefined);
      void acceptToken(token, oldClientId);
      return;
    }
    const acceptInsecure = (who: SessionIdentity, resumed?: ConnectionSession, later = false) => {
      const identity: ConnectionIdentity = { clientId: newClientId() };
      if (who.userId !== undefined) identity.userId = who.userId;
      if (who.projectId !== undefined) identity.projectId = who.projectId;
      upgrade(identity, resumed, later);
    };
    // Ids given in the URL win; only a bare reconnect URL restores the old identity.
    if (oldClientId === undefined || userId !== undefined || projectId !== undefined) return acceptInsecure({ userId, projectId });
    if (!ctx.accepting()) return draining();
    ctx.loadSession(oldClientId).then(
      (session) => (session ? acceptInsecure(session.who, session, true) : acceptInsecure({}, undefined, true)),
      () => refuse('503 Service Unavailable', 'unavailable', 'the session of old_client_id could not be read; try again'),
    );

    /** jwt mode: verify, check a resumed session's owner, upgrade. Never rejects. */
    async function acceptToken(token: string | undefined, resumeId: string | undefined): Promise<void> {
      let verified: VerifiedIdentity;
      try {
        verified = await auth.verify(token);
      } catch (error) {
        if (error instanceof TokenError) return refuse('401 Unauthorized', 'unauthorized', error.message, { reason: error.reason });
        ctx.onKeySourceError?.(error as Error);
        const why = error instanceof KeySourceError ? 'the token keys could not be read' : 'the token could not be checked';
        return refuse('503 Service Unavailable', 'unavailable', `${why}; try again`);
      }
      let session: ConnectionSession | null = null;
      if (resumeId !== undefined) {
        try {
          session = await ctx.loadSession(resumeId);
        } catch {
          return refuse('503 Service Unavailable', 'unavailable', 'the session of old_client_id could not be read; try again');
        }
        // A session made by another sub (or in insecure mode, without one) is never taken over.
        if (session !== null && session.who.subject !== verified.subject) {
          return refuse('403 Forbidden', 'forbidden', 'old_client_id belongs to another identity', { field: 'old_client_id', reason: 'resume_owner' });
        }
      }
      const identity: ConnectionIdentity = {
        clientId: newClientId(),
        userId: verified.userId,
        subject: verified.subject,
        projects: verified.projects,
        grantedTasks: verified.tasks,
      };
      if (verified.projects[0] !== undefined) identity.projectId = verified.projects[0];
      if (verified.expiresAt !== undefined) identity.expiresAt = verified.expiresAt;
      upgrade(identity, session ?? undefined, true);
    }
  };
}
