/**
 * A gateway process killed with SIGKILL while a task streams (issue 7 items 1 and 2): its client reconnects
 * with `old_client_id` alone to another gateway and, from the session the dead one refreshed every
 * SESSION_REFRESH_MS, gets the rest of the stream with no gap and the terminal status. Frames sent after
 * the last refresh may come twice (at least once): bounded by about one refresh interval of frames.
 */
import { describe, expect, inject, it } from 'vitest';
import { freePort, waitFor, connectClient } from '@taskpulse/testkit';
import { openEngine, uniquePrefix } from '@taskpulse/testkit/engines';
import { closeAllAfterEach, startGatewayProcess, startGateway } from './support/gateways';
import { progress, publish } from './support/engines';

closeAllAfterEach();

const REFRESH_MS = 200;
const EVERY_MS = 5;

describe('a gateway killed with SIGKILL', () => {
  it('loses nothing: the client resumes on another gateway with no gap and gets the terminal status', async () => {
    const prefix = uniquePrefix();
    const port = await freePort();
    const child = startGatewayProcess({
      REDIS_URL: inject('redisUrl'),
      AUTH_MODE: 'insecure',
      KEY_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      SESSION_REFRESH_MS: String(REFRESH_MS),
      LOG_LEVEL: 'warn',
    });
    await child.waitForOutput(/gateway listening on \S+/);
    const engine = await openEngine('redis', prefix);
    await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);

    const taskId = 'task-killed';
    await publish(engine, { kind: 'start', taskId });
    const client = await connectClient(`ws://127.0.0.1:${port}/api/v1/ws?user_id=u-kill`);
    client.send({ action: 'subscribe', task_id: taskId, request_id: 's' });
    await client.next((f) => f.type === 'ack' && f.task_id === taskId);

    let stop = false;
    let last = 1;
    const publisher = (async () => {
      for (let i = 1; i <= 2000 && !stop; i++) {
        last = (await publish(engine, progress(taskId, i))).offset;
        await new Promise((r) => setTimeout(r, EVERY_MS));
      }
    })();
    await waitFor('a stream under way', () => client.taskFrames(taskId).filter((f) => f.type === 'progress').length >= 100, 10_000);
    await child.kill();
    await client.closed;
    const before = client.taskFrames(taskId).filter((f) => f.type === 'progress').map((f) => f.offset as number);

    // A fresh node whose first connection is a resume (upgraded after the session read: see Connection.opened).
    const other = await startGateway({ engine: await openEngine('redis', prefix), limits: { sessionRefreshMs: REFRESH_MS } });
    const back = await connectClient(other.wsUrl(`old_client_id=${client.clientId}`));
    expect(back.frames[0]!.payload.restored_tasks).toEqual([taskId]);
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await publisher;
    await publish(engine, { kind: 'complete', taskId });
    const end = last + 1;
    await waitFor('the terminal status after the kill', () => back.taskFrames(taskId).some((f) => f.type === 'status' && f.offset === end), 10_000);

    const after = back.taskFrames(taskId).filter((f) => f.type !== 'ack').map((f) => f.offset as number);
    const seenBefore = Math.max(...before);
    // no gap: the resumed stream starts at or before the first frame the client did not have, and runs on contiguously
    expect(after[0]).toBeLessThanOrEqual(seenBefore + 1);
    expect(after).toEqual(Array.from({ length: after.length }, (_, k) => after[0]! + k));
    expect(after.at(-1)).toBe(end);
    // at least once, bounded: what repeats is about one refresh interval of frames (generous margin for a busy machine)
    const repeated = seenBefore - after[0]! + 1;
    expect(repeated).toBeLessThanOrEqual(Math.ceil((4 * REFRESH_MS) / EVERY_MS));
    expect(back.taskFrames(taskId).find((f) => f.type === 'ack')!.payload.recovered).toBe(true);
  });
});
