/**
 * Auth fixtures for API tests: API keys with each scope, HS256 tokens minted with jose, and a bearer
 * verifier over the same secret (the API takes any BearerVerifier; main.ts uses packages/auth's).
 */
import { jwtVerify, SignJWT } from 'jose';
import { createApiKeyRegistry, hashApiKey, type ApiKeyScope } from '@taskpulse/auth';
import type { ApiAuth, BearerVerifier } from '../src/api-auth';

export const JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';
const secret = new TextEncoder().encode(JWT_SECRET);

export const KEYS = { publish: 'key-publish-1f9a', read: 'key-read-77c2', admin: 'key-admin-03be' } as const;

export const apiKeys = createApiKeyRegistry(
  (Object.keys(KEYS) as ApiKeyScope[]).map((scope) => ({ id: `${scope}-key`, sha256: hashApiKey(KEYS[scope]), scopes: [scope] })),
);

/** The API_KEYS value for the keys above (for processes). */
export const API_KEYS_JSON = JSON.stringify(apiKeys.entries);

/** An HS256 token for `sub` with optional project/projects/tasks claims, valid for `ttlSeconds`. */
export async function mintToken(sub: string, claims: Record<string, unknown> = {}, ttlSeconds = 300): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(secret);
}

/** Verifies the tokens mintToken makes; rejects with a `reason` otherwise. */
export const testVerifier: BearerVerifier = {
  async verify(token) {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] }).catch((error: Error) => {
      throw Object.assign(new Error(error.message), { reason: (error as { code?: string }).code ?? 'invalid' });
    });
    const projects = [...(typeof payload.project_id === 'string' ? [payload.project_id] : []), ...((payload.projects as string[]) ?? [])];
    return { subject: payload.sub!, userId: payload.sub!, projects, tasks: (payload.tasks as string[]) ?? [], expiresAt: (payload.exp ?? 0) * 1000 };
  },
};

export const JWT_AUTH: ApiAuth = { mode: 'jwt', apiKeys, verifier: testVerifier };
