/** loadApiConfig: defaults, every variable, and ConfigError naming the variable and the form. */
import { describe, expect, it } from 'vitest';
import { thrown } from '@taskpulse/testkit';
import { ConfigError } from '@taskpulse/config';
import { loadApiConfig } from '../src/config';

const configError = (run: () => unknown): ConfigError => thrown(run, ConfigError);
const insecure = { AUTH_MODE: 'insecure' };
const SECRET = 'x'.repeat(32);

describe('loadApiConfig', () => {
  it('has the documented defaults', () => {
    const { apiKeys, ...config } = loadApiConfig({ AUTH_MODE: 'insecure' });
    expect(apiKeys.entries).toEqual([]);
    expect(config).toEqual({
      port: 8081,
      host: '0.0.0.0',
      redisUrl: undefined,
      keyPrefix: 'tp',
      logLevel: 'info',
      demoQueue: 'video_processing',
      bridgeQueues: [],
      cleanupIntervalMs: 3_600_000,
      auth: { mode: 'insecure', allowedOrigins: ['*'] },
      rateLimitPerMinute: 0,
      bodyLimit: 128 * 1024,
    });
    expect(loadApiConfig({}, { defaultPort: 8080, defaultAuthMode: 'insecure' }).port).toBe(8080);
    expect(loadApiConfig({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET }).rateLimitPerMinute).toBe(600);
  });

  it('reads every variable', () => {
    const { apiKeys, auth, ...config } = loadApiConfig({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      API_KEYS: `[{"id":"w","sha256":"${'ab'.repeat(32)}","scopes":["publish"]}]`,
      API_RATE_LIMIT_PER_MINUTE: '30',
      API_BODY_LIMIT_BYTES: '4096',
      PORT: '9000',
      HOST: '127.0.0.1',
      REDIS_URL: 'rediss://user:pw@redis.internal:6380/2',
      KEY_PREFIX: 'prod',
      LOG_LEVEL: 'debug',
      DEMO_QUEUE: 'demo',
      BRIDGE_QUEUES: 'emails, reports,,',
      CLEANUP_INTERVAL_MS: '5m',
    });
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      redisUrl: 'rediss://user:pw@redis.internal:6380/2',
      keyPrefix: 'prod',
      logLevel: 'debug',
      demoQueue: 'demo',
      bridgeQueues: ['emails', 'reports'],
      cleanupIntervalMs: 300_000,
      rateLimitPerMinute: 30,
      bodyLimit: 4096,
    });
    expect(auth).toMatchObject({ mode: 'jwt', jwt: { key: { kind: 'secret' } } });
    expect(apiKeys.entries).toEqual([{ id: 'w', sha256: 'ab'.repeat(32), scopes: ['publish'] }]);
    expect(loadApiConfig({ ...insecure, BRIDGE_QUEUES: '' }).bridgeQueues).toEqual([]);
    expect(loadApiConfig({ ...insecure, CLEANUP_INTERVAL_MS: '0' }).cleanupIntervalMs).toBe(0);
    expect(loadApiConfig({ ...insecure, CLEANUP_INTERVAL_MS: '90000' }).cleanupIntervalMs).toBe(90_000);
  });

  it.each([
    [{ PORT: '0' }, 'PORT', 'a whole number from 1 to 65535'],
    [{ PORT: '80a' }, 'PORT', 'a whole number'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', 'a Redis URL like redis://host:6379'],
    [{ REDIS_URL: 'http://x:1' }, 'REDIS_URL', 'scheme redis: or rediss:'],
    [{ KEY_PREFIX: 'a b' }, 'KEY_PREFIX', '1-64 letters'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', 'one of fatal'],
    [{ DEMO_QUEUE: 'x{y}' }, 'DEMO_QUEUE', '1-64 letters'],
    [{ BRIDGE_QUEUES: 'ok,b@d' }, 'BRIDGE_QUEUES', 'comma-separated list'],
    [{ BRIDGE_QUEUES: 'video_processing' }, 'BRIDGE_QUEUES', 'without the demo queue'],
    [{ CLEANUP_INTERVAL_MS: '500' }, 'CLEANUP_INTERVAL_MS', 'from 1000 to 86400000, or 0 for off'],
    [{ CLEANUP_INTERVAL_MS: 'hourly' }, 'CLEANUP_INTERVAL_MS', 'a duration in ms'],
    [{ HOST: 'a host' }, 'HOST', 'an interface address'],
    [{ AUTH_MODE: 'open' }, 'AUTH_MODE', 'one of jwt, insecure'],
    [{ API_KEYS: '[{}]' }, 'API_KEYS', 'entry 0'],
    [{ API_RATE_LIMIT_PER_MINUTE: '-1' }, 'API_RATE_LIMIT_PER_MINUTE', 'a whole number from 0'],
    [{ API_BODY_LIMIT_BYTES: '10' }, 'API_BODY_LIMIT_BYTES', 'a whole number from 1024'],
  ])('%j → ConfigError naming %s', (env, variable, expected) => {
    const error = configError(() => loadApiConfig({ ...insecure, ...env }));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(`${variable} must be`);
    expect(error.message).toContain(expected);
  });

  it('requires REDIS_URL for the cluster entry point', () => {
    const error = configError(() => loadApiConfig(insecure, { requireRedis: true }));
    expect(error.message).toBe('REDIS_URL must be a Redis URL like redis://host:6379 (required), got nothing');
  });

  it('requires AUTH_MODE unless the caller gives a default (npm start: insecure)', () => {
    const error = configError(() => loadApiConfig({}));
    expect(error.variable).toBe('AUTH_MODE');
    expect(error.message).toContain('AUTH_MODE must be one of jwt, insecure (required)');
    expect(loadApiConfig({}, { defaultAuthMode: 'insecure' }).auth.mode).toBe('insecure');
    expect(loadApiConfig({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET }, { defaultAuthMode: 'insecure' }).auth.mode).toBe('jwt');
    expect(configError(() => loadApiConfig({ AUTH_MODE: 'jwt' })).variable).toBe('JWT_SECRET');
  });
});
