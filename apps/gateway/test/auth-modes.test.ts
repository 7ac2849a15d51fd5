/**
 * Auth settings on in-process gateways: origins in insecure mode, refresh where no tokens are used, a
 * JWKS key source (good token, and 503 when the key set cannot be read).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { readAuthSettings } from '@taskpulse/auth';
import { freePort, connectClient, refusedUpgrade } from '@taskpulse/testkit';
import { openEngine } from '@taskpulse/testkit/engines';
import { closeAll, startGateway } from './support/gateways';

const servers: Server[] = [];

afterEach(async () => {
  await closeAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** 101 when the upgrade with these headers was accepted, else the refusal's status. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', () => resolve(0)); // no answer at all (refused, reset)
  });
}

describe('insecure mode', () => {
  it('allows every origin by default, and only ALLOWED_ORIGINS when set', async () => {
    const engine = await openEngine('memory');
    const open = await startGateway({ engine });
    expect(await upgradeStatus(open.wsUrl('user_id=u1'), { origin: 'https://anywhere.example' })).toBe(101);
    const listed = await startGateway({ engine, auth: readAuthSettings({ AUTH_MODE: 'insecure', ALLOWED_ORIGINS: 'https://app.example' }) });
    expect(await upgradeStatus(listed.wsUrl('user_id=u1'), { origin: 'https://app.example' })).toBe(101);
    expect(await upgradeStatus(listed.wsUrl('user_id=u1'), { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(listed.wsUrl('user_id=u1'), {})).toBe(101);
  });

  it('answers a refresh with bad_request: no tokens are used', async () => {
    const engine = await openEngine('memory');
    const running = await startGateway({ engine });
    const client = await connectClient(running.wsUrl('user_id=u1'));
    client.send({ action: 'refresh', token: 'a.b.c', request_id: 'r1' });
    expect((await client.next((f) => f.request_id === 'r1')).payload).toMatchObject({ code: 'bad_request', field: 'token' });
  });
});

describe('jwt mode with a JWKS', () => {
  it('connects with a token whose key is in the set; answers 503 while the set cannot be read', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const token = await new SignJWT({ sub: 'user-j' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('1m').sign(pair.privateKey);

    const engine = await openEngine('memory');
    const good = await startGateway({ engine, auth: readAuthSettings({ AUTH_MODE: 'jwt', JWT_JWKS_URL: jwksUrl }) });
    const client = await connectClient(good.wsUrl(`token=${token}`));
    expect(client.frames[0]!.payload.user_id).toBe('user-j');

    const nobody = `http://127.0.0.1:${await freePort()}/jwks.json`;
    const down = await startGateway({ engine, auth: readAuthSettings({ AUTH_MODE: 'jwt', JWT_JWKS_URL: nobody }) });
    const answer = await refusedUpgrade(down.wsUrl(`token=${token}`));
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body).error.code).toBe('unavailable');
  });
});
