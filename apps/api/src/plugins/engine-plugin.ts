/**
 * The engine and the reporter as typed decorators (`app.engine`, `app.reporter`). An engine passed in
 * is the caller's to close; one this plugin created (Redis from a URL, else memory) is closed with the app.
 */
import type { FastifyPluginAsync } from 'fastify';
import { createMemoryEngine, createRedisEngineForUrl, type Engine } from '@taskpulse/engine';
import { createReporter, type ProgressReporter } from '@taskpulse/reporter';
import { shared } from './skip-override';

declare module 'fastify' {
  interface FastifyInstance {
    engine: Engine;
    reporter: ProgressReporter;
  }
}

export interface EnginePluginOptions {
  /** Use this engine; the app will not close it. */
  engine?: Engine;
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
