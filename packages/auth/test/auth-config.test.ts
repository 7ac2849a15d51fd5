/** readAuthSettings, originAllowed and mayAccessTask: pure rules, each failure a ConfigError naming its variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@taskpulse/config';
import { thrown } from '@taskpulse/testkit';
import { mayAccessTask, originAllowed, readAuthSettings } from '../src/index';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';

describe('readAuthSettings', () => {
  it('requires AUTH_MODE unless a default is given; insecure allows every origin by default', () => {
    expect(thrown(() => readAuthSettings({}), ConfigError).variable).toBe('AUTH_MODE');
    expect(thrown(() => readAuthSettings({ AUTH_MODE: 'open' }), ConfigError).variable).toBe('AUTH_MODE');
    expect(readAuthSettings({}, { defaultMode: 'insecure' })).toEqual({ mode: 'insecure', allowedOrigins: ['*'] });
    expect(readAuthSettings({ AUTH_MODE: 'insecure', ALLOWED_ORIGINS: 'https://A.example, http://b:8080' }).allowedOrigins).toEqual([
      'https://a.example',
      'http://b:8080',
    ]);
  });

  it('jwt mode needs exactly one key source, a long enough secret, a real PEM; no browser origin by default', () => {
    const jwt = readAuthSettings({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' });
    expect(jwt).toMatchObject({ mode: 'jwt', allowedOrigins: [], jwt: { issuer: 'i', audience: 'a', key: { kind: 'secret', algorithms: ['HS256'] } } });
    expect(thrown(() => readAuthSettings({ AUTH_MODE: 'jwt' }), ConfigError).message).toMatch(/exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
    expect(thrown(() => readAuthSettings({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://x/j' }), ConfigError).variable).toBe('JWT_JWKS_URL');
    const short = thrown(() => readAuthSettings({ AUTH_MODE: 'jwt', JWT_SECRET: 'short-secret' }), ConfigError);
    expect(short.variable).toBe('JWT_SECRET');
    expect(short.message).not.toContain('short-secret');
    expect(thrown(() => readAuthSettings({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: 'nope' }), ConfigError).variable).toBe('JWT_PUBLIC_KEY');
    expect(thrown(() => readAuthSettings({ AUTH_MODE: 'jwt', JWT_JWKS_URL: 'ftp://x' }), ConfigError).variable).toBe('JWT_JWKS_URL');
    expect(thrown(() => readAuthSettings({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, ALLOWED_ORIGINS: 'evil.com' }), ConfigError).variable).toBe('ALLOWED_ORIGINS');
  });
});

describe('originAllowed', () => {
  it('lets clients without an Origin through and matches the list case-insensitively', () => {
    const listed = { allowedOrigins: ['https://app.example'] };
    expect(originAllowed(listed, undefined)).toBe(true);
    expect(originAllowed(listed, 'https://APP.example')).toBe(true);
    expect(originAllowed(listed, 'https://evil.example')).toBe(false);
    expect(originAllowed({ allowedOrigins: [] }, 'https://app.example')).toBe(false);
    expect(originAllowed({ allowedOrigins: ['*'] }, 'https://any.example')).toBe(true);
  });
});

describe('mayAccessTask', () => {
  const me = { userId: 'u1', projects: ['p1'], tasks: ['granted'] };
  it('allows own user, own projects and granted tasks; refuses foreign and unknown tasks alike', () => {
    expect(mayAccessTask(me, { userId: 'u1' }, 't')).toBe(true);
    expect(mayAccessTask(me, { userId: 'u2', projectId: 'p1' }, 't')).toBe(true);
    expect(mayAccessTask(me, { userId: 'u2', projectId: 'p2' }, 'granted')).toBe(true);
    expect(mayAccessTask(me, null, 'granted')).toBe(true);
    expect(mayAccessTask(me, { userId: 'u2', projectId: 'p2' }, 't')).toBe(false);
    expect(mayAccessTask(me, {}, 't')).toBe(false);
    expect(mayAccessTask(me, null, 't')).toBe(false);
  });
});
