/** describingEnv: the readers tell what they read (for the README's reference), and tell nothing to a plain environment. */
import { describe, expect, it } from 'vitest';
import { describeVariable, describingEnv, readDurationMs, readEnum, readInt, readNameList, readString, requireRedisUrl } from '../src/index';

describe('describingEnv', () => {
  it('records each variable a reader reads, with its form and default, in reading order', () => {
    const { env, described } = describingEnv({ REDIS_URL: 'redis://r:6379', PORT: '9000' });
    requireRedisUrl(env);
    expect(readInt(env, 'PORT', 8080, 1, 65_535)).toBe(9000);
    readDurationMs(env, 'EVERY_MS', 1000, { min: 10, max: 60_000, zeroMeansOff: true });
    readEnum(env, 'MODE', ['a', 'b'] as const, 'a');
    readNameList(env, 'QUEUES', []);
    readString(env, 'NAME', { expected: 'a name' });
    expect(described).toEqual([
      { name: 'REDIS_URL', form: 'a Redis URL like redis://host:6379', required: true },
      { name: 'PORT', form: 'a whole number from 1 to 65535', fallback: '8080', required: false },
      { name: 'EVERY_MS', form: 'a duration in ms (or with a unit: 90s, 5m, 1h) from 10 to 60000, or 0 for off', fallback: '1000', required: false },
      { name: 'MODE', form: 'one of a, b', fallback: 'a', required: false },
      { name: 'QUEUES', form: 'a comma-separated list of names (letters, digits, _ . -)', fallback: '', required: false },
      { name: 'NAME', form: 'a name', required: false },
    ]);
    // The recorder is invisible to code that lists the environment.
    expect(Object.keys(env)).toEqual(['REDIS_URL', 'PORT']);
  });

  it('is a no-op on a plain environment', () => {
    const env = { PORT: '1' };
    describeVariable(env, 'PORT', 'anything');
    expect(readInt(env, 'PORT', 8080, 1, 65_535)).toBe(1);
    expect(env).toEqual({ PORT: '1' });
  });
});
