/**
 * Credentials for tests that cross apps (API, gateway, processes): an HS256 secret and tokens minted with
 * jose, and API keys with each scope (their hashes as API_KEYS). Depends on no app.
 */
import { SignJWT } from 'jose';
import { createApiKeyRegistry, hashApiKey, type ApiKeyScope } from '@taskpulse/auth';

export const JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';
const secret = new TextEncoder().encode(JWT_SECRET);

export const KEYS = { publish: 'key-publish-1f9a', read: 'key-read-77c2', admin: 'key-admin-03be' } as const;

export const apiKeys = createApiKeyRegistry(
  (Object.keys(KEYS) as ApiKeyScope[]).map((scope) => ({ id: `${scope}-key`, sha256: hashApiKey(KEYS[scope]), scopes: [scope] })),
);

/** The API_KEYS value for the keys above (for processes). */
export const API_KEYS_JSON = JSON.stringify(apiKeys.entries);

/** The environment of a process in jwt mode with these keys and secret. */
export const JWT_ENV = { AUTH_MODE: 'jwt', JWT_SECRET, API_KEYS: API_KEYS_JSON } as const;

/** An HS256 token for `sub` with optional project_id/projects/tasks claims, valid for `ttlSeconds`. */
export async function mintToken(sub: string, claims: Record<string, unknown> = {}, ttlSeconds = 300): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(secret);
}
