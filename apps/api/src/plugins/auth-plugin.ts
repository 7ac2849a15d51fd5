/**
 * Authentication of API calls (jwt mode; insecure mode lets everything through). `requireScope(scope)`
 * is an onRequest hook: the call needs `X-API-Key` naming a configured key with that scope (401
 * `unauthorized` without one or with an unknown key, 403 `forbidden` without the scope). `readerOf`
 * resolves a read's caller: an API key with the read scope, or a bearer token (401 when missing or bad).
 * It runs before the body is parsed, so an anonymous caller costs no parsing.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { bearerToken, KeySourceError, TokenError, mayAccessTask, type ApiKeyEntry, type ApiKeyScope, type TaskOwner, type VerifiedIdentity } from '@taskpulse/auth';
import { INSECURE_AUTH, type ApiAuth } from '../api-auth';
import { ApiError } from '../error-handler';
import { shared } from './skip-override';

/** Who is reading: a key with the read scope (sees every task), or a token holder (sees their own). */
export type Reader = { kind: 'key'; key: ApiKeyEntry } | { kind: 'token'; identity: VerifiedIdentity } | { kind: 'open' };

declare module 'fastify' {
  interface FastifyInstance {
    apiAuth: ApiAuth;
  }
  interface FastifyRequest {
    /** The API key the request presented, once requireScope or readerOf accepted it (rate limits key on its id). */
    apiKey: ApiKeyEntry | undefined;
  }
}

/** The request's API key entry: undefined without the header; 401 for an unknown key. */
function presentedKey(app: FastifyInstance, request: FastifyRequest): ApiKeyEntry | undefined {
  if (request.apiKey !== undefined) return request.apiKey;
  const header = request.headers['x-api-key'];
  if (header === undefined) return undefined;
  const key = typeof header === 'string' ? app.apiAuth.apiKeys.find(header.trim()) : undefined;
  if (key === undefined) throw new ApiError(401, 'unauthorized', 'the X-API-Key header does not name a known API key');
  request.apiKey = key;
  return key;
}

/** An onRequest hook: in jwt mode the call needs an API key with `scope`. */
export function requireScope(app: FastifyInstance, scope: ApiKeyScope): onRequestAsyncHookHandler {
  return async (request) => {
    if (app.apiAuth.mode === 'insecure') return;
    const key = presentedKey(app, request);
    if (key === undefined) {
      throw new ApiError(401, 'unauthorized', `this endpoint needs an API key with the ${scope} scope in the X-API-Key header`);
    }
    if (!key.scopes.includes(scope)) throw new ApiError(403, 'forbidden', `API key ${key.id} lacks the ${scope} scope this endpoint needs`);
  };
}

/** The caller of a read (jwt mode): an API key with the read scope, else a valid bearer token; 401/403 otherwise. */
export async function readerOf(app: FastifyInstance, request: FastifyRequest): Promise<Reader> {
  const { apiAuth } = app;
  if (apiAuth.mode === 'insecure') return { kind: 'open' };
  const key = presentedKey(app, request);
  if (key !== undefined) {
    if (!key.scopes.includes('read')) throw new ApiError(403, 'forbidden', `API key ${key.id} lacks the read scope this endpoint needs`);
    return { kind: 'key', key };
  }
  const header = request.headers.authorization;
  if (header === undefined) {
    throw new ApiError(401, 'unauthorized', 'this endpoint needs a token (Authorization: Bearer <jwt>) or an API key with the read scope', undefined, 'missing');
  }
  const token = bearerToken(header);
  if (token === undefined) throw new ApiError(401, 'unauthorized', 'the Authorization header must be Bearer <jwt>', undefined, 'malformed');
  if (apiAuth.verifier === undefined) throw new ApiError(401, 'unauthorized', 'this server accepts no bearer tokens; use an API key with the read scope');
  try {
    return { kind: 'token', identity: await apiAuth.verifier.verify(token) };
  } catch (error) {
    if (error instanceof KeySourceError) throw new ApiError(503, 'unavailable', 'the token signing keys cannot be fetched; try again');
    if (error instanceof TokenError) throw new ApiError(401, 'unauthorized', `the bearer token was refused: ${error.message}`, undefined, error.reason);
    throw error;
  }
}

/**
 * Throws the one answer for a token holder's task that is unknown or not theirs (the same status and
 * message, so the answer says nothing about whether the task exists): 403 `forbidden`.
 */
export function assertMayRead(app: FastifyInstance, reader: Reader, taskId: string, owner: TaskOwner): void {
  if (reader.kind !== 'token') return;
  const rule = app.apiAuth.mayAccessTask ?? mayAccessTask;
  if (!rule(reader.identity, owner, taskId)) {
    throw new ApiError(403, 'forbidden', `task ${taskId} is not visible to this token (or does not exist)`);
  }
}

export interface AuthPluginOptions {
  auth?: ApiAuth;
}

/** Decorates `app.apiAuth` (default: insecure) and `request.apiKey`. */
export const authPlugin: FastifyPluginAsync<AuthPluginOptions> = shared(async (app, options) => {
  app.decorate('apiAuth', options.auth ?? INSECURE_AUTH);
  app.decorateRequest('apiKey', undefined);
});
