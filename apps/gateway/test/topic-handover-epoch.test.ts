/**
 * A subscribe window still bridging (its socket not on the topic yet) forwards frames itself, so it must
 * also tell of an epoch change seen live (task-relay.ts does for the topic): a `resync` ack with
 * `recovered: false` before the first frame of the new epoch, once. Pure logic: a recording socket.
 */
import { describe, expect, it } from 'vitest';
import { assembleTaskFrame } from '@taskpulse/protocol';
import type { TaskSocket } from '../src/task-socket';
import { TopicHandover } from '../src/topic-handover';

function frame(offset: number, epoch: string): Buffer {
  return Buffer.from(assembleTaskFrame('progress', 'task-w', offset, epoch, { progress: String(offset), timestamp: '1' } as never));
}

function recordingSocket(): TaskSocket & { sent: Array<Record<string, unknown>>; topics: string[] } {
  const sent: Array<Record<string, unknown>> = [];
  const topics: string[] = [];
  return {
    sent,
    topics,
    closed: false,
    clientId: 'c1',
    cork: (fn) => fn(),
    send: (f) => sent.push(JSON.parse(f.toString())),
    sendError: () => {},
    subscribeTopic: (t) => topics.push(t),
    unsubscribeTopic: () => {},
  };
}

describe('subscribe window across a live epoch change', () => {
  it('sends a resync ack before the first bridged frame of a new epoch, once', async () => {
    const socket = recordingSocket();
    let joined = 0;
    const window = new TopicHandover(socket, 'chan', () => (joined += 1), 'task-w');
    // State read at offset 5 of epoch "a"; frames up to 5 may still be on their way, so it bridges.
    window.deliver({ frames: [frame(5, 'a')], offset: 5, epoch: 'a', recovered: false }, '{"type":"ack","action":"subscribe"}');
    expect(window.bridging).toBe(true);
    window.listener('chan', frame(1, 'b'));
    window.listener('chan', frame(2, 'b'));
    expect(socket.sent.map((f) => [f.type, f.action ?? f.offset, f.epoch ?? (f.payload as { epoch?: string } | undefined)?.epoch])).toEqual([
      ['progress', 5, 'a'],
      ['ack', 'subscribe', undefined],
      ['ack', 'resync', 'b'],
      ['progress', 1, 'b'],
      ['progress', 2, 'b'],
    ]);
    expect(socket.sent[2]).toEqual({ type: 'ack', action: 'resync', task_id: 'task-w', payload: { recovered: false, offset: 0, epoch: 'b' } });
    await Promise.resolve();
    expect(socket.topics).toEqual(['chan']);
    expect(joined).toBe(1);
  });

  it('sends no notice for a task that had no epoch yet (unknown when subscribed)', () => {
    const socket = recordingSocket();
    const window = new TopicHandover(socket, 'chan', () => {}, 'task-w');
    window.listener('chan', frame(1, 'b')); // held during the read
    window.deliver({ frames: [], offset: 0, recovered: false }, '{"type":"ack","action":"subscribe"}');
    expect(socket.sent.map((f) => f.type)).toEqual(['ack', 'progress']);
  });
});
