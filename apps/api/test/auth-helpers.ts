/** Auth fixtures for API tests: the shared credentials, and the jwt-mode ApiAuth with packages/auth's TokenVerifier. */
import { readAuthSettings, TokenVerifier } from '@taskpulse/auth';
import type { ApiAuth } from '../src/api-auth';
import { apiKeys, JWT_SECRET } from '../../../test/support/auth-fixtures';

export { API_KEYS_JSON, apiKeys, JWT_ENV, JWT_SECRET, KEYS, mintToken } from '../../../test/support/auth-fixtures';

export const JWT_AUTH: ApiAuth = {
  mode: 'jwt',
  apiKeys,
  verifier: new TokenVerifier(readAuthSettings({ AUTH_MODE: 'jwt', JWT_SECRET }).jwt!),
};
