/**
 * The engine and the reporter as typed decorators (`app.engine`, `app.reporter`). An engine passed in
 * is the caller's to close; one this plugin created (Redis from a URL, else memory) is closed with the app.
 */
import type { FastifyPluginAsync } from 'fastify';
import { createMemoryEngine, createRedisEngineForUrl, type EngineStatus, type NodeRegistry, type TaskStore } from '@taskpulse/engine';
import { createReporter, type ProgressReporter, type ReporterEngine } from '@taskpulse/reporter';
import { shared } from './skip-override';

/**
 * The engine roles the routes read through (`app.engine`): task snapshots, history and stats, the node
 * registry's connection stats, and the status. Writes and broadcasts go through `app.reporter`.
 */
export type ApiEngine = Pick<TaskStore, 'snapshot' | 'history' | 'stats'> &
  Pick<NodeRegistry, 'connectionStats'> &
  Pick<EngineStatus, 'kind' | 'prefix' | 'isReady' | 'close'>;

declare module 'fastify' {
  interface FastifyInstance {
    engine: ApiEngine;
    reporter: ProgressReporter;
  }
}

export interface EnginePluginOptions {
  /** Use this engine (any Engine, or one composed from roles); the app will not close it. */
  engine?: ApiEngine & ReporterEngine;
  /** Without `engine`: create a Redis engine on this URL (else a memory engine). */
  redisUrl?: string;
  /** Key prefix of a created engine (default tp). */
  prefix?: string;
  /** Use this reporter (default: one over the engine). */
  reporter?: ProgressReporter;
}

export const enginePlugin: FastifyPluginAsync<EnginePluginOptions> = shared(async (app, options) => {
  const prefix = options.prefix ?? 'tp';
  const engine =
    options.engine ??
    (options.redisUrl === undefined ? createMemoryEngine({ prefix }) : createRedisEngineForUrl(options.redisUrl, { prefix, logger: app.log }));
  app.decorate('engine', engine);
  app.decorate('reporter', options.reporter ?? createReporter(engine));
  if (options.engine === undefined) {
    app.addHook('onClose', async () => {
      await engine.close();
    });
  }
});
