/** The configuration reader, and main.ts as a real process: listen line, a client, SIGTERM drain, exit 0. */
import { describe, expect, inject, it } from 'vitest';
import { freePort, waitFor, connectClient } from '@taskpulse/testkit';
import { openEngine, uniquePrefix } from '@taskpulse/testkit/engines';
import { ConfigError } from '@taskpulse/config';
import { loadGatewayConfig, readGatewaySettings } from '../src/index';
import { closeAllAfterEach, startGatewayProcess } from './support/gateways';

closeAllAfterEach();

function configError(env: Record<string, string>): ConfigError {
  try {
    loadGatewayConfig({ REDIS_URL: 'redis://127.0.0.1:6380', AUTH_MODE: 'insecure', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
}

describe('configuration', () => {
  it('has defaults for everything but REDIS_URL', () => {
    expect(readGatewaySettings({}, { defaultAuthMode: 'insecure' })).toEqual({
      port: 8080,
      host: '0.0.0.0',
      keyPrefix: 'tp',
      heartbeatIntervalMs: 5000,
      maxBackpressureBytes: 1 << 20,
      sessionTtlSeconds: 120,
      sessionRefreshMs: 1000,
      softBackpressureBytes: 64 * 1024,
      clientFrameHardCapBytes: 64 * 1024,
      pingIntervalSeconds: 25,
      logLevel: 'info',
      auth: { mode: 'insecure', allowedOrigins: ['*'] },
      maxConnectionsPerUser: 0,
    });
    expect(readGatewaySettings({ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32) }).maxConnectionsPerUser).toBe(100);
    expect(readGatewaySettings({ AUTH_MODE: 'insecure', MAX_CONNECTIONS_PER_USER: '3' }).maxConnectionsPerUser).toBe(3);
    const config = loadGatewayConfig({ REDIS_URL: 'redis://r:6379', AUTH_MODE: 'insecure', PORT: '9000', NODE_ID: 'gw-1', KEY_PREFIX: 'x' });
    expect(config).toMatchObject({ redisUrl: 'redis://r:6379', port: 9000, nodeId: 'gw-1', keyPrefix: 'x' });
  });

  it('names the variable and the expected form in every error', () => {
    expect(() => loadGatewayConfig({})).toThrow(/^REDIS_URL must be a Redis URL like redis:\/\/host:6379 \(required\), got nothing$/);
    expect(configError({ REDIS_URL: 'http://x' }).variable).toBe('REDIS_URL');
    expect(() => loadGatewayConfig({ REDIS_URL: 'redis://r:6379' })).toThrow(/^AUTH_MODE must be one of jwt, insecure \(required\), got nothing$/);
    expect(configError({ AUTH_MODE: 'jwt' }).message).toMatch(/exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
    expect(configError({ ALLOWED_ORIGINS: 'not an origin' }).variable).toBe('ALLOWED_ORIGINS');
    expect(configError({ PORT: 'eighty' }).message).toBe('PORT must be a whole number from 0 to 65535, got "eighty"');
    expect(configError({ PORT: '70000' }).variable).toBe('PORT');
    expect(configError({ KEY_PREFIX: 'a:b' }).variable).toBe('KEY_PREFIX');
    expect(configError({ NODE_ID: 'has space' }).message).toMatch(/^NODE_ID must be an id/);
    expect(configError({ HEARTBEAT_INTERVAL_MS: '5' }).message).toMatch(/^HEARTBEAT_INTERVAL_MS must be a whole number from 100/);
    expect(configError({ MAX_BACKPRESSURE_BYTES: '-1' }).variable).toBe('MAX_BACKPRESSURE_BYTES');
    expect(configError({ SOFT_BACKPRESSURE_BYTES: String(2 << 20) }).message).toMatch(/^SOFT_BACKPRESSURE_BYTES must be a whole number from 1024 to 1048576/);
    expect(configError({ CLIENT_FRAME_HARD_CAP_BYTES: '100' }).variable).toBe('CLIENT_FRAME_HARD_CAP_BYTES');
    expect(configError({ PING_INTERVAL_SECONDS: '0' }).variable).toBe('PING_INTERVAL_SECONDS');
    expect(configError({ LOG_LEVEL: 'loud' }).message).toMatch(/^LOG_LEVEL must be one of fatal, error/);
    expect(configError({ HOST: 'a host' }).variable).toBe('HOST');
  });
});

describe('main.ts', () => {
  it('exits 1 naming the variable when the configuration is bad', async () => {
    const child = startGatewayProcess({ REDIS_URL: '', PORT: '1' });
    await child.waitForOutput(/REDIS_URL must be a Redis URL/);
    await waitFor('exit', () => child.child.exitCode !== null);
    expect(child.child.exitCode).toBe(1);
  });

  it('listens, reports itself, and drains on SIGTERM: clients get 1012, the report goes, exit 0', async () => {
    const prefix = uniquePrefix();
    const port = await freePort();
    const child = startGatewayProcess({
      REDIS_URL: inject('redisUrl'),
      KEY_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ID: 'main-under-test',
      HEARTBEAT_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'insecure',
    });
    expect(await child.waitForOutput(/gateway listening on \S+/)).toBe(`gateway listening on 127.0.0.1:${port}`);
    const engine = await openEngine('redis', prefix);
    await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);
    const client = await connectClient(`ws://127.0.0.1:${port}/api/v1/ws?user_id=u1`);
    await waitFor('node report', async () => (await engine.connectionStats()).by_user.u1 === 1);

    const exitCode = child.stop(10_000);
    expect((await client.closed).code).toBe(1012);
    expect(await exitCode).toBe(0);
    expect((await engine.connectionStats()).nodes).toBe(0);
  });
});
