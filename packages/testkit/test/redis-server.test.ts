/** The private redis-server's restart: data written before it survives with persistence on, and only then. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../src/redis-server';

const servers: RedisServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.stop())));

async function writeRestartRead(persistence: boolean, kill: boolean): Promise<string | null> {
  const server = await startRedisServer([], { persistence });
  servers.push(server);
  const before = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await before.connect();
  await before.set('k', 'v');
  before.disconnect();
  const oldPid = server.process.pid;
  await server.restart({ kill, downMs: 50 });
  expect(server.process.pid).not.toBe(oldPid);
  const after = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await after.connect();
  try {
    return await after.get('k');
  } finally {
    after.disconnect();
  }
}

describe('startRedisServer restart', () => {
  it('keeps what was written across a SHUTDOWN restart with persistence on', async () => {
    expect(await writeRestartRead(true, false)).toBe('v');
  });

  it('starts empty after a restart with persistence off', async () => {
    expect(await writeRestartRead(false, true)).toBeNull();
  });
});
