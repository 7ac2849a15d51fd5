/**
 * The bare ceiling's publisher path: one PUBLISH of finished frame bytes (the same bytes our engine
 * would build) on the channel the ceiling nodes subscribed. No storage, no script.
 */
import { encodeBroadcastFrame, encodeTaskEvent, fillTaskFrame, projectChannel, taskChannel, userChannel } from '@taskpulse/protocol';
import { Redis } from 'ioredis';
import type { Sender } from './sender';

/** A sender that PUBLISHes ready frames on the Redis at `url`. */
export async function createCeilingSender(url: string, prefix: string): Promise<Sender> {
  const redis = new Redis(url);
  return {
    taskEvent: (taskId, seq, message) =>
      redis.publish(
        taskChannel(prefix, taskId),
        fillTaskFrame(encodeTaskEvent({ kind: 'progress', taskId, progress: seq % 100, message }).frame, seq, 'bench', {}),
      ),
    broadcast: (scope, target, taskId, seq, message) =>
      redis.publish(
        scope === 'user' ? userChannel(prefix, target) : projectChannel(prefix, target),
        encodeBroadcastFrame(scope, taskId, { progress: seq % 100, message }),
      ),
    startTask: () => undefined,
    async close() {
      redis.disconnect();
    },
  };
}
