/**
 * The auth settings every entry point reads: the mode, the JWT key (exactly one of a secret, a PEM public
 * key or a JWKS URL), the expected issuer and audience, and the allowed browser origins. Read once with
 * @taskpulse/config's readers; every failure is a ConfigError naming the variable.
 *
 * Origins: ALLOWED_ORIGINS is a comma list of `scheme://host[:port]` or `*`. Unset, it is `*` in insecure
 * mode and empty in jwt mode. Empty means no browser origin is allowed: only clients that send no Origin
 * header (servers, CLIs) can connect, so a jwt deployment must name its web origins explicitly.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, describeVariable, readEnum, readList, readRaw, readString, readUrl, type Env } from '@taskpulse/config';

export const AUTH_MODES = ['jwt', 'insecure'] as const;
/** `jwt`: identity from a verified token. `insecure`: the guide's behaviour, identity from query parameters. */
export type AuthMode = (typeof AUTH_MODES)[number];

/** Where token signatures are checked against, and which algorithms that allows. */
export type JwtKeySource =
  | { kind: 'secret'; secret: Uint8Array; algorithms: readonly ['HS256'] }
  | { kind: 'public_key'; key: KeyObject; algorithms: readonly ['RS256'] | readonly ['ES256'] }
  | { kind: 'jwks'; url: string; algorithms: readonly ['RS256', 'ES256'] };

export interface JwtSettings {
  key: JwtKeySource;
  /** JWT_ISSUER: when set, `iss` must equal it. */
  issuer?: string;
  /** JWT_AUDIENCE: when set, `aud` must contain it. */
  audience?: string;
}

export interface AuthSettings {
  mode: AuthMode;
  /** Present exactly in jwt mode. */
  jwt?: JwtSettings;
  /** Allowed Origin header values (lower case), or `*` for any. Empty: only requests without an Origin. */
  allowedOrigins: readonly string[];
}

/** Shortest HS256 secret accepted: 32 bytes, the hash size (RFC 7518 3.2). */
export const MIN_SECRET_BYTES = 32;

const ORIGIN = /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/;

/** AUTH_MODE alone (for processes that only must not start without it); `defaultMode` when unset. */
export function readAuthMode(env: Env, options: { defaultMode?: AuthMode } = {}): AuthMode {
  describeVariable(env, 'AUTH_MODE', `one of ${AUTH_MODES.join(', ')}`, { fallback: options.defaultMode, required: options.defaultMode === undefined });
  const raw = readRaw(env, 'AUTH_MODE') ?? options.defaultMode;
  if (raw === undefined) throw new ConfigError('AUTH_MODE', 'one of jwt, insecure (required)', undefined);
  return readEnum(env, 'AUTH_MODE', AUTH_MODES, raw as AuthMode);
}

/** Reads AUTH_MODE and the settings it needs; `defaultMode` applies when AUTH_MODE is unset (npm start). */
export function readAuthSettings(env: Env, options: { defaultMode?: AuthMode } = {}): AuthSettings {
  const mode = readAuthMode(env, options);
  const allowedOrigins = readList(env, 'ALLOWED_ORIGINS', mode === 'insecure' ? ['*'] : [], {
    pattern: ORIGIN,
    expected: 'origins like https://app.example.com, or *',
  }).map((origin) => origin.toLowerCase());
  if (mode === 'insecure') return { mode, allowedOrigins };
  const jwt: JwtSettings = { key: readKeySource(env) };
  const issuer = readString(env, 'JWT_ISSUER', { expected: 'the issuer a token must name in iss' });
  if (issuer !== undefined) jwt.issuer = issuer;
  const audience = readString(env, 'JWT_AUDIENCE', { expected: 'an audience a token must list in aud' });
  if (audience !== undefined) jwt.audience = audience;
  return { mode, jwt, allowedOrigins };
}

function readKeySource(env: Env): JwtKeySource {
  const oneOf = ' (jwt mode: exactly one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL)';
  describeVariable(env, 'JWT_SECRET', `an HS256 secret of at least ${MIN_SECRET_BYTES} bytes${oneOf}`);
  describeVariable(env, 'JWT_PUBLIC_KEY', `a PEM public key, RSA (RS256) or EC P-256 (ES256), \\n escapes allowed${oneOf}`);
  describeVariable(env, 'JWT_JWKS_URL', `a JWKS URL like https://issuer.example.com/.well-known/jwks.json${oneOf}`);
  const given = (['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'] as const).filter((name) => readRaw(env, name) !== undefined);
  if (given.length !== 1) {
    throw new ConfigError(
      given[1] ?? 'JWT_SECRET',
      'exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL in AUTH_MODE=jwt',
      given.length === 0 ? undefined : `${given.join(' and ')} all set`,
    );
  }
  if (given[0] === 'JWT_SECRET') {
    const secret = readRaw(env, 'JWT_SECRET')!;
    const bytes = Buffer.byteLength(secret);
    // Never echo a secret into an error message: say only how long it was.
    if (bytes < MIN_SECRET_BYTES) throw new ConfigError('JWT_SECRET', `at least ${MIN_SECRET_BYTES} bytes for HS256`, `${bytes} bytes`);
    return { kind: 'secret', secret: new TextEncoder().encode(secret), algorithms: ['HS256'] };
  }
  if (given[0] === 'JWT_PUBLIC_KEY') return { kind: 'public_key', ...readPublicKey(readRaw(env, 'JWT_PUBLIC_KEY')!) };
  const url = readUrl(env, 'JWT_JWKS_URL', { schemes: ['https', 'http'], example: 'https://issuer.example.com/.well-known/jwks.json', kind: 'a JWKS URL' })!;
  return { kind: 'jwks', url, algorithms: ['RS256', 'ES256'] };
}

/** An RSA or P-256 public key in PEM (`\n` escapes allowed, as env files often hold one line). */
function readPublicKey(value: string): { key: KeyObject; algorithms: readonly ['RS256'] | readonly ['ES256'] } {
  const expected = 'a PEM public key (RSA for RS256 or EC P-256 for ES256)';
  let key: KeyObject;
  try {
    key = createPublicKey(value.replace(/\\n/g, '\n'));
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY', expected, 'a value that is not a PEM public key');
  }
  if (key.asymmetricKeyType === 'rsa') return { key, algorithms: ['RS256'] };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, algorithms: ['ES256'] };
  throw new ConfigError('JWT_PUBLIC_KEY', expected, `a ${key.asymmetricKeyType ?? 'unknown'} key`);
}
