/** The configuration reader, and main.ts as a real process: listen line, a client, SIGTERM drain, exit 0. */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort, startTsProcess, waitFor, type ManagedProcess } from '@taskpulse/testkit';
import { ConfigError } from '@taskpulse/config';
import { loadGatewayConfig, readGatewaySettings } from '../src/index';
import { closeAll, closeLater } from './support/gateways';
import { closeAllClients, connectClient } from './support/ws-client';
import { createEngine, newPrefix } from './support/engines';

const mainFile = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const processes: ManagedProcess[] = [];

afterEach(async () => {
  await closeAllClients();
  await Promise.all(processes.splice(0).map((p) => p.kill()));
  await closeAll();
});

function configError(env: Record<string, string>): ConfigError {
  try {
    loadGatewayConfig({ REDIS_URL: 'redis://127.0.0.1:6380', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
}

describe('configuration', () => {
  it('has defaults for everything but REDIS_URL', () => {
    expect(readGatewaySettings({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      keyPrefix: 'tp',
      heartbeatIntervalMs: 5000,
      maxBackpressureBytes: 1 << 20,
      sessionTtlSeconds: 120,
      sessionRefreshMs: 1000,
      logLevel: 'info',
    });
    const config = loadGatewayConfig({ REDIS_URL: 'redis://r:6379', PORT: '9000', NODE_ID: 'gw-1', KEY_PREFIX: 'x' });
    expect(config).toMatchObject({ redisUrl: 'redis://r:6379', port: 9000, nodeId: 'gw-1', keyPrefix: 'x' });
  });

  it('names the variable and the expected form in every error', () => {
    expect(() => loadGatewayConfig({})).toThrow(/^REDIS_URL must be a Redis URL like redis:\/\/host:6379 \(required\), got nothing$/);
    expect(configError({ REDIS_URL: 'http://x' }).variable).toBe('REDIS_URL');
    expect(configError({ PORT: 'eighty' }).message).toBe('PORT must be a whole number from 0 to 65535, got "eighty"');
    expect(configError({ PORT: '70000' }).variable).toBe('PORT');
    expect(configError({ KEY_PREFIX: 'a:b' }).variable).toBe('KEY_PREFIX');
    expect(configError({ NODE_ID: 'has space' }).message).toMatch(/^NODE_ID must be an id/);
    expect(configError({ HEARTBEAT_INTERVAL_MS: '5' }).message).toMatch(/^HEARTBEAT_INTERVAL_MS must be a whole number from 100/);
    expect(configError({ MAX_BACKPRESSURE_BYTES: '-1' }).variable).toBe('MAX_BACKPRESSURE_BYTES');
    expect(configError({ LOG_LEVEL: 'loud' }).message).toMatch(/^LOG_LEVEL must be one of fatal, error/);
    expect(configError({ HOST: 'a host' }).variable).toBe('HOST');
  });
});

describe('main.ts', () => {
  it('exits 1 naming the variable when the configuration is bad', async () => {
    const child = startTsProcess(mainFile, { REDIS_URL: '', PORT: '1' });
    processes.push(child);
    await child.waitForOutput(/REDIS_URL must be a Redis URL/);
    await waitFor('exit', () => child.child.exitCode !== null);
    expect(child.child.exitCode).toBe(1);
  });

  it('listens, reports itself, and drains on SIGTERM: clients get 1012, the report goes, exit 0', async () => {
    const prefix = newPrefix();
    const port = await freePort();
    const child = startTsProcess(mainFile, {
      REDIS_URL: inject('redisUrl'),
      KEY_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ID: 'main-under-test',
      HEARTBEAT_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
    });
    processes.push(child);
    expect(await child.waitForOutput(/gateway listening on \S+/)).toBe(`gateway listening on 127.0.0.1:${port}`);
    const engine = closeLater(await createEngine('redis', prefix));
    await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);
    const client = await connectClient(`ws://127.0.0.1:${port}/api/v1/ws?user_id=u1`);
    await waitFor('node report', async () => (await engine.connectionStats()).by_user.u1 === 1);

    const exitCode = child.stop(10_000);
    expect((await client.closed).code).toBe(1012);
    expect(await exitCode).toBe(0);
    expect((await engine.connectionStats()).nodes).toBe(0);
  });
});
