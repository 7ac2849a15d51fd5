/** SessionStore contract cases: connection sessions kept for their ttl, replaced whole, saved and touched in batches. */
import { waitFor } from '@taskpulse/testkit';
import { expect, it } from 'vitest';
import { EngineArgumentError } from '../src/index';
import type { ContractContext } from './engine-contract';
import { range } from './engine-test-helpers';

export function sessionStoreCases(ctx: ContractContext): void {
  it('keeps a connection session until its ttl, replaces it on save, and refuses a bad ttl', async () => {
    const engine = await ctx.engine();
    expect(await engine.loadSession('c-unknown')).toBeNull();
    const full = {
      who: { userId: 'user-123', projectId: 'project-456', projects: ['p7', 'p8'], subject: 'sub-1' },
      tasks: { 'task-a': { offset: 12, epoch: 'e1a2b3c4d5e6' }, 'task.b:x': { offset: 0, epoch: '' } },
    };
    await engine.saveSession('c1', full, 60);
    await engine.saveSession('c2', { who: { userId: 'user-9' }, tasks: {} }, 0.3);
    expect(await engine.loadSession('c1')).toEqual(full);
    expect(await engine.loadSession('c2')).toEqual({ who: { userId: 'user-9' }, tasks: {} });
    // a save replaces the whole session: tasks no longer listed are gone
    await engine.saveSession('c1', { who: { projectId: 'p2' }, tasks: { 'task-c': { offset: 3, epoch: 'ee' } } }, 60);
    expect(await engine.loadSession('c1')).toEqual({ who: { projectId: 'p2' }, tasks: { 'task-c': { offset: 3, epoch: 'ee' } } });
    await waitFor('the short session to expire', async () => (await engine.loadSession('c2')) === null, 10_000, 50);
    for (const bad of [0, -1, Number.NaN]) {
      await expect(engine.saveSession('c3', { who: {}, tasks: {} }, bad)).rejects.toBeInstanceOf(EngineArgumentError);
    }
  });

  it('saves many sessions in one call and extends their ttl with touchSessions', async () => {
    const engine = await ctx.engine();
    const sessions = range(1, 50).map((i) => ({ clientId: `b${i}`, session: { who: { userId: `u${i}` }, tasks: { [`t${i}`]: { offset: i, epoch: 'ep' } } } }));
    await engine.saveSessions(sessions, 0.4);
    await engine.saveSessions([], 1);
    expect(await engine.loadSession('b7')).toEqual({ who: { userId: 'u7' }, tasks: { t7: { offset: 7, epoch: 'ep' } } });
    await engine.touchSessions(['b1', 'b2', 'b-unknown'], 60);
    await waitFor('the untouched sessions to expire', async () => (await engine.loadSession('b3')) === null, 10_000, 50);
    expect(await engine.loadSession('b1')).toEqual(sessions[0]!.session);
    expect(await engine.loadSession('b2')).toEqual(sessions[1]!.session);
    expect(await engine.loadSession('b-unknown')).toBeNull();
  });
}
