/**
 * Who may call the API, as the routes see it: the auth mode, the publish API keys, and (jwt mode) a
 * verifier of bearer tokens with the per-task rule. The verifier is an interface of the API's own, so the
 * routes do not depend on how tokens are checked (packages/auth's jose verifier in main.ts; tests may
 * hand in their own).
 */
import { createApiKeyRegistry, TokenVerifier, type ApiKeyRegistry, type AuthMode, type AuthSettings, type TaskOwner, type VerifiedIdentity } from '@taskpulse/auth';

/** `insecure`: everything open, as in the guide. `jwt`: API keys for writes and admin, bearer tokens or keys for reads. */
export type ApiAuthMode = AuthMode;

/** Checks a bearer token (packages/auth's TokenVerifier fits); rejects with a TokenError, or KeySourceError when keys cannot be fetched. */
export interface BearerVerifier {
  verify(token: string): Promise<VerifiedIdentity>;
}

/** True when `identity` may see `taskId` owned by `owner` (null: no such task). */
export type TaskAccessRule = (identity: VerifiedIdentity, owner: TaskOwner, taskId: string) => boolean;

export interface ApiAuth {
  mode: ApiAuthMode;
  apiKeys: ApiKeyRegistry;
  /** Required in jwt mode for bearer reads; without it, reads need an API key with the read scope. */
  verifier?: BearerVerifier;
  /** Default: packages/auth's mayAccessTask. */
  mayAccessTask?: TaskAccessRule;
}

/** The guide's open API (npm start, tests that are not about auth). */
export const INSECURE_AUTH: ApiAuth = { mode: 'insecure', apiKeys: createApiKeyRegistry([]) };

/** The API's auth from its configuration: packages/auth's TokenVerifier in jwt mode. */
export function apiAuthFrom(config: { auth: AuthSettings; apiKeys: ApiKeyRegistry }): ApiAuth {
  const { mode, jwt } = config.auth;
  return { mode, apiKeys: config.apiKeys, ...(jwt === undefined ? {} : { verifier: new TokenVerifier(jwt) }) };
}
