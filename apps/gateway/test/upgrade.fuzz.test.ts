/**
 * Property-based fuzz of the WebSocket upgrade against a real gateway process in jwt mode on 127.0.0.1:
 * arbitrary query strings (tokens good, bad and random; ids valid and hostile; raw and percent-encoded)
 * sent as raw HTTP upgrade requests over real sockets. The gateway answers each with 101, or 400/401/403
 * (429 when a user is at MAX_CONNECTIONS_PER_USER) with a JSON `{"error":{"code","message"}}` whose code
 * is registered, and is alive and ready afterwards.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startTsProcess, type ManagedProcess } from '@taskpulse/testkit';
import { uniquePrefix } from '@taskpulse/testkit/engines';
import { ERROR_CODES } from '@taskpulse/protocol';
import { JWT_ENV, mintToken } from '../../../test/support/auth-fixtures';

const RUNS = 300;
const main = new URL('../src/main.ts', import.meta.url).pathname;

interface RawAnswer {
  status: number;
  body: string;
}

/** Sends one upgrade request and reads the status line and (for a refusal) the body; 3 s at most. */
function upgrade(port: number, target: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer in 3 s to ${target}: ${JSON.stringify(data.toString())}`));
    }, 3000);
    const finish = (answer: RawAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      if (status === 101) return finish({ status, body: '' });
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? Number.NaN);
      if (data.length - (end + 4) >= length) finish({ status, body: data.subarray(end + 4, end + 4 + length).toString('utf8') });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed without a complete answer to ${target}: ${JSON.stringify(data.toString())}`));
    });
    socket.write(
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.from(randomUUID().slice(0, 16)).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

describe('the upgrade under fuzz (jwt gateway process)', () => {
  let gateway: ManagedProcess;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    gateway = startTsProcess(main, {
      ...JWT_ENV,
      REDIS_URL: inject('redisUrl'),
      KEY_PREFIX: uniquePrefix(),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    await gateway.waitForOutput(/gateway listening on/, 30_000);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it(`answers ${RUNS} generated upgrade queries with 101 or a JSON 400/401/403, and stays up`, async () => {
    const tokens = [
      await mintToken('alice'),
      await mintToken('bob', { projects: ['p-1'], tasks: ['t-1'] }),
      await mintToken('carol', {}, -60),
      `${(await mintToken('dave')).slice(0, -4)}AAAA`,
    ];
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('', 'a'.repeat(200), '..', '%zz', '%00', 'null', '[]', '{}', 'Bearer x', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'user-1'),
    );
    const value = fc.oneof(fc.constantFrom(...tokens), hostile, fc.stringMatching(/^[0-9a-f]{32}$/));
    const pair = fc.tuple(fc.constantFrom('token', 'user_id', 'project_id', 'old_client_id', 'x', '', 'token[]', 'TOKEN'), value, fc.boolean());
    // encode=true: percent-encoded as a client library would; false: raw printable ASCII, malformed escapes and all.
    const queryArb = fc.array(pair, { maxLength: 5 }).map((pairs) =>
      pairs
        .map(([key, v, encode]) => `${key}=${encode ? encodeURIComponent(v) : v.replace(/[^\x21-\x7e]/g, '').replace(/#/g, '')}`)
        .join('&'),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(queryArb, async (query) => {
        const answer = await upgrade(port, `/api/v1/ws?${query}`);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect([101, 400, 401, 403, 429], `${query} → ${answer.status} ${answer.body}`).toContain(answer.status);
        if (answer.status !== 101) {
          const json = JSON.parse(answer.body) as { error: { code: string; message: string } };
          expect(Object.keys(ERROR_CODES)).toContain(json.error.code);
          expect(typeof json.error.message).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
    expect(statuses.get(101) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    expect(gateway.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  });
});
