/**
 * The gateway's view of auth: the mode and origins from the settings, and the token verifier in jwt mode.
 * Built once per gateway (the JWKS cache lives in the verifier). Insecure mode verifies nothing: identity
 * comes from the query, as in the guide.
 */
import { TokenError, TokenVerifier, type AuthSettings, type TokenVerifierOptions, type VerifiedIdentity } from '@taskpulse/auth';

export interface GatewayAuth {
  readonly settings: AuthSettings;
  /** True in AUTH_MODE=jwt. */
  readonly jwt: boolean;
  /**
   * Verifies a token; throws TokenError or KeySourceError. Only called in jwt mode. `exp` is strict here
   * (the verifier's clock tolerance is for `nbf`): a connection opened on a token already past its expiry
   * would only be closed again at once.
   */
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
    async verify(token) {
      if (!verifier) throw new Error('token verification is off in AUTH_MODE=insecure');
      const identity = await verifier.verify(token);
      if (identity.expiresAt !== undefined && identity.expiresAt <= Date.now()) throw new TokenError('expired', 'the token has expired; get a new one');
      return identity;
    },
  };
}
