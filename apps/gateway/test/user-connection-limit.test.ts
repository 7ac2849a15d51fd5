/** Connections per user on one node: the one over the limit is refused at upgrade with 429; others are not affected. */
import { describe, expect, it } from 'vitest';
import { createMemoryEngine } from '@taskpulse/engine';
import { waitFor, connectClient, refusedUpgrade } from '@taskpulse/testkit';
import { closeWithEngines } from '@taskpulse/testkit/engines';
import { readAuthSettings } from '@taskpulse/auth';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { resolveLimits } from '../src/options';
import { JWT_SECRET, mintToken } from '../../../test/support/auth-fixtures';

closeAllAfterEach();

describe('connections per user', () => {
  it('refuses the third connection of a user at a limit of 2 (insecure mode), and accepts again after one closes', async () => {
    const { gateway, wsUrl } = await startGateway({ engine: closeWithEngines(createMemoryEngine({ prefix: 'cpu' })), limits: { connectionsPerUser: 2 } });
    const first = await connectClient(wsUrl('user_id=u-1'));
    await connectClient(wsUrl('user_id=u-1&project_id=p-1'));
    const refused = await refusedUpgrade(wsUrl('user_id=u-1'));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toEqual({
      error: { code: 'too_many_connections', message: 'user u-1 already holds 2 connections on this node (MAX_CONNECTIONS_PER_USER); close one first' },
    });
    // Other users and anonymous connections are not counted against u-1.
    await connectClient(wsUrl('user_id=u-2'));
    await connectClient(wsUrl());
    await connectClient(wsUrl());
    await connectClient(wsUrl());
    await first.close();
    await waitFor('the closed connection to be uncounted', () => gateway.connectionCount() === 5);
    await connectClient(wsUrl('user_id=u-1'));
  });

  it('counts the token user in jwt mode', async () => {
    const auth = readAuthSettings({ AUTH_MODE: 'jwt', JWT_SECRET });
    const { wsUrl } = await startGateway({ engine: closeWithEngines(createMemoryEngine({ prefix: 'cpu2' })), auth, limits: { connectionsPerUser: 1 } });
    await connectClient(wsUrl(`token=${await mintToken('alice')}`));
    expect((await refusedUpgrade(wsUrl(`token=${await mintToken('alice', { project_id: 'p-9' })}`))).status).toBe(429);
    await connectClient(wsUrl(`token=${await mintToken('bob')}`));
  });

  it('is off by default in the library and validated', () => {
    expect(resolveLimits().connectionsPerUser).toBe(0);
    expect(() => resolveLimits({ connectionsPerUser: -1 })).toThrow(/limits.connectionsPerUser must be a whole number from 0/);
  });
});
