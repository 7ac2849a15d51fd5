/** TokenVerifier against real tokens signed with jose: every refusal reason, each key kind, a JWKS with rotation. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { readAuthSettings, TokenError, TokenVerifier, bearerToken, type TokenReason } from '../src/index';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const now = () => Math.floor(Date.now() / 1000);

function sign(key: CryptoKey | Uint8Array, alg: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(key);
}
const hs = (claims: Record<string, unknown>) => sign(new TextEncoder().encode(SECRET), 'HS256', claims);
const good = { sub: 'user-1', exp: now() + 60 };

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function reason(verifier: TokenVerifier, token: string | undefined): Promise<TokenReason> {
  try {
    await verifier.verify(token);
  } catch (error) {
    if (error instanceof TokenError) {
      if (token) expect(error.message).not.toContain(token);
      return error.reason;
    }
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('HS256 (JWT_SECRET)', () => {
  const verifier = new TokenVerifier(readAuthSettings({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_ISSUER: 'iss-1', JWT_AUDIENCE: 'aud-1' }).jwt!);
  const base = { ...good, iss: 'iss-1', aud: 'aud-1' };

  it('accepts a good token and reads every claim', async () => {
    const token = await hs({ ...base, project_id: 'p1', projects: ['p2', 'p1'], tasks: ['t9'] });
    expect(await verifier.verify(token)).toEqual({
      subject: 'user-1',
      userId: 'user-1',
      projects: ['p1', 'p2'],
      tasks: ['t9'],
      expiresAt: base.exp * 1000,
    });
  });

  it('refuses every bad token with its reason', async () => {
    const other = new TextEncoder().encode('another-secret-of-at-least-32-bytes!!');
    const cases: [string, Promise<string> | string | undefined, TokenReason][] = [
      ['no token', undefined, 'missing'],
      ['empty token', '', 'missing'],
      ['garbage', 'not-a-jwt', 'malformed'],
      ['bad base64 header', 'x.y.z', 'malformed'],
      ['expired', hs({ ...base, exp: now() - 60 }), 'expired'],
      ['not yet valid', hs({ ...base, nbf: now() + 600 }), 'not_yet_valid'],
      ['wrong key', sign(other, 'HS256', base), 'bad_signature'],
      ['alg none', `${b64({ alg: 'none' })}.${b64(base)}.`, 'bad_algorithm'],
      ['HS512', sign(new TextEncoder().encode(SECRET + SECRET), 'HS512', base), 'bad_algorithm'],
      ['wrong issuer', hs({ ...base, iss: 'evil' }), 'bad_issuer'],
      ['wrong audience', hs({ ...base, aud: 'other' }), 'bad_audience'],
      ['no exp', hs({ sub: 'user-1', iss: 'iss-1', aud: 'aud-1' }), 'bad_claims'],
      ['no sub', hs({ ...base, sub: undefined }), 'bad_claims'],
      ['bad sub', hs({ ...base, sub: 'has space' }), 'bad_claims'],
      ['bad project_id', hs({ ...base, project_id: 7 }), 'bad_claims'],
      ['projects not an array', hs({ ...base, projects: 'p1' }), 'bad_claims'],
      ['bad task id', hs({ ...base, tasks: ['ok', 'no{brace}'] }), 'bad_claims'],
    ];
    for (const [name, token, expected] of cases) {
      expect([name, await reason(verifier, await token)]).toEqual([name, expected]);
    }
    const tampered = (await hs(base)).split('.');
    tampered[1] = b64({ ...base, sub: 'admin' });
    expect(await reason(verifier, tampered.join('.'))).toBe('bad_signature');
  });
});

describe('PEM public keys (JWT_PUBLIC_KEY)', () => {
  it('RS256 and ES256 keys verify their tokens and refuse the other algorithm and algorithm confusion', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const rsaPem = await exportSPKI(rsa.publicKey);
    const rsaVerifier = new TokenVerifier(readAuthSettings({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: rsaPem.replace(/\n/g, '\\n') }).jwt!);
    const ecVerifier = new TokenVerifier(readAuthSettings({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: await exportSPKI(ec.publicKey) }).jwt!);
    expect((await rsaVerifier.verify(await sign(rsa.privateKey, 'RS256', good))).userId).toBe('user-1');
    expect((await ecVerifier.verify(await sign(ec.privateKey, 'ES256', good))).userId).toBe('user-1');
    expect(await reason(rsaVerifier, await sign(ec.privateKey, 'ES256', good))).toBe('bad_algorithm');
    expect(await reason(ecVerifier, await sign(rsa.privateKey, 'RS256', good))).toBe('bad_algorithm');
    // Algorithm confusion: HS256 "signed" with the public key's PEM text as the secret.
    const confused = await sign(new TextEncoder().encode(rsaPem), 'HS256', good);
    expect(await reason(rsaVerifier, confused)).toBe('bad_algorithm');
    const other = await generateKeyPair('RS256');
    expect(await reason(rsaVerifier, await sign(other.privateKey, 'RS256', good))).toBe('bad_signature');
  });
});

describe('JWKS (JWT_JWKS_URL)', () => {
  let server: Server;
  let keys: JWK[] = [];
  let fetches = 0;
  let url = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('caches the key set, refetches on an unknown kid (rotation), refuses keys it does not have', async () => {
    const first = await generateKeyPair('RS256', { extractable: true });
    const second = await generateKeyPair('ES256', { extractable: true });
    keys = [{ ...(await exportJWK(first.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }];
    const verifier = new TokenVerifier(readAuthSettings({ AUTH_MODE: 'jwt', JWT_JWKS_URL: url }).jwt!, { jwksCooldownMs: 0 });
    const t1 = await sign(first.privateKey, 'RS256', good, { kid: 'k1' });
    expect((await verifier.verify(t1)).userId).toBe('user-1');
    expect((await verifier.verify(t1)).userId).toBe('user-1');
    expect(fetches).toBe(1);
    // Rotation: the issuer publishes k2; a token with the unknown kid makes the verifier fetch again.
    keys = [...keys, { ...(await exportJWK(second.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' }];
    expect((await verifier.verify(await sign(second.privateKey, 'ES256', good, { kid: 'k2' }))).userId).toBe('user-1');
    expect(fetches).toBe(2);
    expect(await reason(verifier, await sign(second.privateKey, 'ES256', good, { kid: 'k3' }))).toBe('bad_signature');
    expect(await reason(verifier, await sign(first.privateKey, 'RS256', good, { kid: 'k2' }))).toBe('bad_signature');
    expect(await reason(verifier, await hs(good))).toBe('bad_algorithm');
  });
});

describe('bearerToken', () => {
  it('reads only a Bearer authorization', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer  x ')).toBe('x');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
