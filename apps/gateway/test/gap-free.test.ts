/**
 * Subscribing without a gap: while a publisher hammers a task, clients subscribe at random moments; each
 * must see its snapshot, then the ack, then every later offset exactly once. Reads are slowed down at
 * random, so frames published during the subscribe window are held and released, not lost or doubled.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, connectClient, type TestClient } from '@taskpulse/testkit';
import { ENGINE_MATRIX } from '@taskpulse/testkit/engines';
import { closeAllAfterEach, startGateway } from './support/gateways';
import { instrument, progress, publish } from './support/engines';

closeAllAfterEach();

const EVENTS = 200;
const CLIENTS = 20;

describe.each(ENGINE_MATRIX)('subscribe during a publish storm ($name engine)', (backend) => {
  it(`gives each of ${CLIENTS} clients a contiguous run of offsets after its snapshot`, async () => {
    const engine = instrument(await backend.open());
    engine.delayReads(8);
    const { wsUrl } = await startGateway({ engine });
    const taskId = 'task-storm';
    await publish(engine, { kind: 'start', taskId });
    const clients: TestClient[] = [];
    for (let i = 0; i < CLIENTS; i++) clients.push(await connectClient(wsUrl(`user_id=u${i}`)));

    const publisher = (async () => {
      for (let i = 1; i <= EVENTS; i++) {
        await publish(engine, progress(taskId, i));
        if (i % 2 === 0) await new Promise((r) => setImmediate(r));
        if (i % 25 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const subscribers = clients.map(async (client, i) => {
      await new Promise((r) => setTimeout(r, i * 3));
      client.send({ action: 'subscribe', task_id: taskId, request_id: `s${i}` });
    });
    await Promise.all([publisher, ...subscribers]);

    const last = EVENTS + 1;
    let heldWindows = 0;
    for (const client of clients) {
      await waitFor(`client to reach offset ${last}`, () => client.frames.some((f) => f.offset === last), 15_000);
      const frames = client.taskFrames(taskId);
      const ackAt = frames.findIndex((f) => f.type === 'ack');
      const ack = frames[ackAt]!;
      expect(ack.payload.recovered).toBe(false);
      const snapshot = frames.slice(0, ackAt).map((f) => f.offset);
      const live = frames.slice(ackAt + 1).map((f) => f.offset);
      expect(snapshot.length).toBeGreaterThan(0);
      expect(Math.max(...snapshot)).toBe(ack.payload.offset);
      expect(snapshot).toEqual([...snapshot].sort((a, b) => a - b));
      const expected = Array.from({ length: last - ack.payload.offset }, (_, k) => ack.payload.offset + 1 + k);
      expect(live).toEqual(expected);
      if (ack.payload.offset < last) heldWindows += 1;
    }
    // The storm really overlapped the subscribes: most clients subscribed before the last event.
    expect(heldWindows).toBeGreaterThan(CLIENTS / 2);
  });
});
