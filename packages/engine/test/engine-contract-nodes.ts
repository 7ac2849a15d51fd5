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
}
