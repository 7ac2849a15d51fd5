/**
 * Socket.IO's publisher path, as @socket.io/redis-emitter does it: the packet `[uid, packet, opts]`
 * msgpack-encoded (notepack.io, the adapter's parser) and PUBLISHed on `socket.io#/#<room>#`; every node's
 * redis-adapter receives it and broadcasts to its local room. The publisher subscribes to nothing, so
 * Redis sends each message only to the nodes. Payloads have the same fields and size as our frames.
 */
import { Redis } from 'ioredis';
import { encode } from 'notepack.io';
import type { Sender } from './sender';

/** The adapter's default key and namespace, and the emitter's uid. */
const CHANNEL = 'socket.io#/#';
const EMITTER_UID = 'emitter';
/** socket.io-parser's EVENT packet type. */
const EVENT = 2;

/** The same object our gateway sends, as Socket.IO event data. */
export function progressPayload(taskId: string, seq: number, message: string, scope?: 'user' | 'project') {
  return {
    type: 'progress',
    task_id: taskId,
    ...(scope ? { scope } : { offset: seq, epoch: 'bench' }),
    payload: {
      task_id: taskId,
      progress: seq % 100,
      current_step: '',
      total_steps: 0,
      completed_steps: 0,
      message,
      status: 'running',
      timestamp: new Date().toISOString(),
    },
  };
}

/** A sender that publishes in the emitter format on the Redis at `url`. */
export async function createSocketIoSender(url: string): Promise<Sender> {
  const redis = new Redis(url);
  const emit = (room: string, data: unknown) =>
    redis.publish(
      `${CHANNEL}${room}#`,
      encode([EMITTER_UID, { type: EVENT, data: ['progress', data], nsp: '/' }, { rooms: [room], flags: {}, except: [] }]) as Buffer,
    );
  return {
    taskEvent: (taskId, seq, message) => emit(`task:${taskId}`, progressPayload(taskId, seq, message)),
    broadcast: (scope, target, taskId, seq, message) => emit(`${scope}:${target}`, progressPayload(taskId, seq, message, scope)),
    startTask: () => undefined,
    async close() {
      redis.disconnect();
    },
  };
}
