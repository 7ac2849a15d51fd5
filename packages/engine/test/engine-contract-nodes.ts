/** NodeRegistry contract cases: gateway nodes' connection counts, summed over live reports. */
import { waitFor } from '@taskpulse/testkit';
import { expect, it } from 'vitest';
import type { ContractContext } from './engine-contract';

export function nodeRegistryCases(ctx: ContractContext): void {
  it('sums node reports and forgets removed and expired nodes', async () => {
    const engine = await ctx.engine();
    await engine.reportNode({ nodeId: 'n1', total: 3, byUser: { a: 2, b: 1 }, byProject: { p: 3 } }, 60);
    await engine.reportNode({ nodeId: 'n2', total: 2, byUser: { a: 2 }, byProject: { p: 1, q: 1 } }, 60);
    await engine.reportNode({ nodeId: 'short', total: 7, byUser: { c: 7 }, byProject: {} }, 1);
    expect(await engine.connectionStats()).toEqual({
      total_clients: 12,
      by_user: { a: 4, b: 1, c: 7 },
      by_project: { p: 4, q: 1 },
      nodes: 3,
    });
    await engine.reportNode({ nodeId: 'n1', total: 1, byUser: { a: 1 }, byProject: { p: 1 } }, 60);
    await engine.removeNode('n2');
    await waitFor('the short-lived report to expire', async () => (await engine.connectionStats()).nodes === 1, 10_000, 100);
    expect(await engine.connectionStats()).toEqual({ total_clients: 1, by_user: { a: 1 }, by_project: { p: 1 }, nodes: 1 });
  });

  it('applies changes-only reports on top of the whole one, and asks for a whole one when it holds none', async () => {
    const engine = await ctx.engine();
    const changes = (total: number, byUser: Record<string, number>, byProject: Record<string, number> = {}) =>
      engine.reportNode({ nodeId: 'n1', total, byUser, byProject, changesOnly: true }, 60);
    expect(await changes(1, { a: 1 })).toBe('needs_whole');
    expect((await engine.connectionStats()).nodes).toBe(0);
    const users = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`u${i}`, 1]));
    expect(await engine.reportNode({ nodeId: 'n1', total: 3000, byUser: users, byProject: { p: 3000 } }, 60)).toBe('recorded');
    expect(await changes(3000, { u0: 0, u1: 2, new: 1 }, { p: 2999, q: 1 })).toBe('recorded');
    const stats = await engine.connectionStats();
    expect(stats).toMatchObject({ total_clients: 3000, nodes: 1, by_project: { p: 2999, q: 1 } });
    expect(Object.keys(stats.by_user)).toHaveLength(3000);
    expect(stats.by_user).toMatchObject({ u1: 2, u2: 1, new: 1 });
    expect(stats.by_user.u0).toBeUndefined();
    // a whole report replaces everything the changes built
    await engine.reportNode({ nodeId: 'n1', total: 1, byUser: { z: 1 }, byProject: {} }, 60);
    expect(await engine.connectionStats()).toEqual({ total_clients: 1, by_user: { z: 1 }, by_project: {}, nodes: 1 });
    await engine.removeNode('n1');
    expect(await changes(0, { z: 0 })).toBe('needs_whole');
  });
}
