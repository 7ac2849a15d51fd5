/**
 * Verifies a JWT with jose against the configured key and turns its claims into a VerifiedIdentity, or
 * throws a TokenError whose `reason` is one of a fixed set (it goes into the 401 body and a metric label).
 * Algorithms are pinned by key kind, so `alg: none` and algorithm confusion (an HS256 token signed with a
 * public key as its secret) are refused before any signature check. Messages never contain the token.
 */
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type JWTVerifyResult,
} from 'jose';
import type { KeyObject } from 'node:crypto';
import { idProblem } from '@taskpulse/protocol';
import type { JwtSettings } from './auth-config';

export const TOKEN_REASONS = [
  'missing',
  'malformed',
  'expired',
  'not_yet_valid',
  'bad_signature',
  'bad_algorithm',
  'bad_issuer',
  'bad_audience',
  'bad_claims',
] as const;
/** Why a token was refused. */
export type TokenReason = (typeof TOKEN_REASONS)[number];

/** A refused token: `reason` for machines, the message for people. */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly reason: TokenReason,
    message: string,
  ) {
    super(message);
  }
}

/** The key set could not be fetched (JWKS down): not the token's fault, so the caller answers 503. */
export class KeySourceError extends Error {
  override readonly name = 'KeySourceError';
}

/** Who a verified token says the caller is. */
export interface VerifiedIdentity {
  /** The token's `sub`. */
  subject: string;
  /** The user id: the `sub`. */
  userId: string;
  /** `project_id` and `projects`, deduplicated. */
  projects: string[];
  /** Task ids the `tasks` claim grants explicitly. */
  tasks: string[];
  /** When the token expires (`exp`), in ms since the epoch. */
  expiresAt?: number;
}

export interface TokenVerifierOptions {
  /** Seconds of clock skew accepted on exp and nbf. Default 5. */
  clockToleranceSeconds?: number;
  /** JWKS: least ms between two fetches triggered by an unknown kid. Default 30 000. */
  jwksCooldownMs?: number;
  /** JWKS: how long a fetched key set is used before it is fetched again. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
}

/** Longest `projects` or `tasks` claim accepted: a token is not a database. */
export const MAX_CLAIM_IDS = 1000;

/** Checks tokens against one configured key; build once per process (the JWKS cache lives in it). */
export class TokenVerifier {
  /** jwtVerify bound to the key: a static key (secret, PEM) or the JWKS lookup, which jose types apart. */
  private readonly verifyWith: (token: string, options: JWTVerifyOptions) => Promise<JWTVerifyResult>;
  private readonly algorithms: readonly string[];
  private readonly clockTolerance: number;

  constructor(
    private readonly settings: JwtSettings,
    options: TokenVerifierOptions = {},
  ) {
    const source = settings.key;
    this.algorithms = source.algorithms;
    this.clockTolerance = options.clockToleranceSeconds ?? 5;
    if (source.kind === 'jwks') {
      const keySet: JWTVerifyGetKey = createRemoteJWKSet(new URL(source.url), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        timeoutDuration: 5000,
      });
      this.verifyWith = (token, verifyOptions) => jwtVerify(token, keySet, verifyOptions);
    } else {
      const key: Uint8Array | KeyObject = source.kind === 'secret' ? source.secret : source.key;
      this.verifyWith = (token, verifyOptions) => jwtVerify(token, key, verifyOptions);
    }
  }

  /** The identity in a valid token; throws TokenError (or KeySourceError when the JWKS is unreachable). */
  async verify(token: string | undefined): Promise<VerifiedIdentity> {
    if (token === undefined || token === '') throw new TokenError('missing', 'a token is required (?token= or Authorization: Bearer)');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenError('malformed', 'the token is not a compact JWS (header.payload.signature)');
    }
    if (typeof alg !== 'string' || !this.algorithms.includes(alg)) {
      throw new TokenError('bad_algorithm', `the token's alg must be ${this.algorithms.join(' or ')}, got ${JSON.stringify(String(alg)).slice(0, 20)}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await this.verifyWith(token, {
        algorithms: [...this.algorithms],
        clockTolerance: this.clockTolerance,
        requiredClaims: ['exp', 'sub'],
        ...(this.settings.issuer === undefined ? {} : { issuer: this.settings.issuer }),
        ...(this.settings.audience === undefined ? {} : { audience: this.settings.audience }),
      }));
    } catch (error) {
      throw translate(error);
    }
    return identityFrom(payload);
  }
}

/** jose's error classes to our reasons; anything else from a JWKS fetch is the key source's failure. */
function translate(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new TokenError('expired', 'the token has expired; get a new one');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new TokenError('not_yet_valid', 'the token is not valid yet (nbf)');
    if (error.claim === 'iss') return new TokenError('bad_issuer', 'the token was issued by another issuer (iss)');
    if (error.claim === 'aud') return new TokenError('bad_audience', 'the token is meant for another audience (aud)');
    return new TokenError('bad_claims', `the token's claims are invalid: ${error.message}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenError('bad_signature', 'the token signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenError('bad_signature', 'no key of the key set matches the token (kid)');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenError('bad_algorithm', 'the token algorithm is not allowed');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new TokenError('malformed', 'the token is malformed');
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error instanceof TypeError) {
    return new KeySourceError(`the JWKS could not be read: ${(error as Error).message}`, { cause: error });
  }
  return new KeySourceError('verifying the token failed unexpectedly', { cause: error });
}

function identityFrom(payload: JWTPayload): VerifiedIdentity {
  const sub = payload.sub;
  const subProblem = idProblem(sub);
  if (subProblem) throw new TokenError('bad_claims', `sub ${subProblem}`);
  const projects = new Set<string>();
  if (payload.project_id !== undefined) projects.add(checkedId('project_id', payload.project_id));
  for (const id of idList('projects', payload.projects)) projects.add(id);
  const identity: VerifiedIdentity = { subject: sub as string, userId: sub as string, projects: [...projects], tasks: idList('tasks', payload.tasks) };
  if (typeof payload.exp === 'number') identity.expiresAt = payload.exp * 1000;
  return identity;
}

function checkedId(claim: string, value: unknown): string {
  const problem = idProblem(value);
  if (problem) throw new TokenError('bad_claims', `${claim} ${problem}`);
  return value as string;
}

function idList(claim: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_CLAIM_IDS) {
    throw new TokenError('bad_claims', `${claim} must be an array of at most ${MAX_CLAIM_IDS} ids`);
  }
  return [...new Set(value.map((id, index) => checkedId(`${claim}[${index}]`, id)))];
}

/** The token in an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
