/**
 * Our system's publisher path: createRedisEngineForUrl (one Redis or a cluster) + createReporter, called the way job code calls them
 * (the guide's ProgressService). Every event runs the engine's one Lua script: stream append, snapshot,
 * PUBLISH of the finished frame.
 */
import { createRedisEngineForUrl } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import type { Sender } from './sender';

/** A sender that reports through our reporter on a Redis engine. */
export async function createOursSender(url: string, prefix: string): Promise<Sender> {
  const engine = createRedisEngineForUrl(url, { prefix });
  await engine.ready(15_000);
  const reporter = createReporter(engine);
  return {
    taskEvent: (taskId, seq, message) => reporter.updateProgress(taskId, seq % 100, message),
    broadcast: (scope, target, taskId, seq, message) =>
      scope === 'user'
        ? reporter.broadcastToUser(target, taskId, { progress: seq % 100, message })
        : reporter.broadcastToProject(target, taskId, { progress: seq % 100, message }),
    startTask: (taskId, userId, projectId) => reporter.notifyTaskStart(taskId, userId, projectId),
    close: () => engine.close(),
  };
}
