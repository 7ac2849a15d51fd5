/** loadWorkerConfig: REDIS_URL required, the documented defaults, and ConfigError naming the variable. */
import { describe, expect, it } from 'vitest';
import { thrown } from '@taskpulse/testkit';
import { ConfigError } from '@taskpulse/config';
import { loadWorkerConfig } from '../src/config';

const configError = (run: () => unknown): ConfigError => thrown(run, ConfigError);

describe('loadWorkerConfig', () => {
  it('requires REDIS_URL and has the documented defaults', () => {
    expect(configError(() => loadWorkerConfig({})).variable).toBe('REDIS_URL');
    expect(configError(() => loadWorkerConfig({ REDIS_URL: 'redis://r:6379' })).variable).toBe('AUTH_MODE');
    expect(loadWorkerConfig({ REDIS_URL: 'redis://r:6379', AUTH_MODE: 'jwt' })).toEqual({
      redisUrl: 'redis://r:6379',
      keyPrefix: 'tp',
      queueName: 'video_processing',
      concurrency: 4,
      stepMs: 400,
      logLevel: 'info',
      metricsPort: 8082,
      host: '0.0.0.0',
      authMode: 'jwt',
    });
  });

  it.each([
    [{ CONCURRENCY: '0' }, 'CONCURRENCY'],
    [{ QUEUE_NAME: 'a:b' }, 'QUEUE_NAME'],
    [{ STEP_DELAY_MS: 'fast' }, 'STEP_DELAY_MS'],
    [{ AUTH_MODE: 'open' }, 'AUTH_MODE'],
    [{ METRICS_PORT: '65536' }, 'METRICS_PORT'],
  ])('%j → ConfigError naming %s', (env, variable) => {
    expect(configError(() => loadWorkerConfig({ REDIS_URL: 'redis://r:6379', AUTH_MODE: 'insecure', ...env })).variable).toBe(variable);
  });
});
