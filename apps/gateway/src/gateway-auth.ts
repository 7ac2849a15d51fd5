/**
 * The gateway's view of auth: the mode and origins from the settings, and the token verifier in jwt mode.
 * Built once per gateway (the JWKS cache lives in the verifier). Insecure mode verifies nothing: identity
 * comes from the query, as in the guide.
 */
import { TokenVerifier, type AuthSettings, type TokenVerifierOptions, type VerifiedIdentity } from '@taskpulse/auth';

export interface GatewayAuth {
  readonly settings: AuthSettings;
  /** True in AUTH_MODE=jwt. */
  readonly jwt: boolean;
  /** Verifies a token; throws TokenError or KeySourceError. Only called in jwt mode. */
  verify(token: string | undefined): Promise<VerifiedIdentity>;
}

/** Why an upgrade was refused, beyond the token reasons: a low-cardinality metric label. */
export type RefusalReason = 'origin' | 'query_identity' | 'resume_owner';

/** The guide's behaviour: every origin, no tokens. What a gateway gets when no auth settings are given. */
export const INSECURE_AUTH_SETTINGS: AuthSettings = { mode: 'insecure', allowedOrigins: ['*'] };

/** Builds the gateway's auth from settings read by readAuthSettings. */
export function createGatewayAuth(settings: AuthSettings = INSECURE_AUTH_SETTINGS, options: TokenVerifierOptions = {}): GatewayAuth {
  const verifier = settings.mode === 'jwt' && settings.jwt ? new TokenVerifier(settings.jwt, options) : undefined;
  return {
    settings,
    jwt: verifier !== undefined,
    verify(token) {
      if (!verifier) return Promise.reject(new Error('token verification is off in AUTH_MODE=insecure'));
      return verifier.verify(token);
    },
  };
}
