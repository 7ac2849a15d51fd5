/** The private redis-server's restart: what was written survives with an append-only file, and not with `flush`. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../src/redis-server';

const servers: RedisServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.stop())));

async function writeRestartRead(flush: boolean): Promise<string | null> {
  // fsync on every write, so a SIGKILL restart cannot lose the key to timing.
  const server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
  servers.push(server);
  const before = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await before.connect();
  await before.set('k', 'v');
  before.disconnect();
  const oldPid = server.process.pid;
  await server.restart({ flush });
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
  it('keeps what was written across a restart on the same port and directory', async () => {
    expect(await writeRestartRead(false)).toBe('v');
  });

  it('starts empty after a restart with flush', async () => {
    expect(await writeRestartRead(true)).toBeNull();
  });
});
