/** Every reader: defaults when unset or blank, the value when valid, and a ConfigError naming the variable and the form. */
import { describe, expect, it } from 'vitest';
import { thrown } from '@taskpulse/testkit';
import {
  ConfigError,
  readDurationMs,
  readEnum,
  readHost,
  readInt,
  readList,
  readLogLevel,
  readName,
  readNameList,
  readRaw,
  readRedisUrl,
  readString,
  readUrl,
  requireRedisUrl,
  type Env,
} from '../src/index';

const configError = (run: () => unknown): ConfigError => thrown(run, ConfigError);

describe('ConfigError', () => {
  it('names the variable, the expected form and what came', () => {
    const error = new ConfigError('PORT', 'a whole number from 1 to 65535', 'eighty');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error).toMatchObject({ variable: 'PORT', expected: 'a whole number from 1 to 65535', got: 'eighty' });
    expect(error.message).toBe('PORT must be a whole number from 1 to 65535, got "eighty"');
    expect(new ConfigError('REDIS_URL', 'a Redis URL', undefined).message).toBe('REDIS_URL must be a Redis URL, got nothing');
  });
});

describe('readRaw and readString', () => {
  it('trims, and treats blank as unset', () => {
    expect(readRaw({ A: '  x ' }, 'A')).toBe('x');
    expect(readRaw({ A: '   ' }, 'A')).toBeUndefined();
    expect(readRaw({}, 'A')).toBeUndefined();
    expect(readString({ A: '' }, 'A', { fallback: 'dflt' })).toBe('dflt');
    expect(readString({}, 'A')).toBeUndefined();
  });

  it('checks the pattern and the problem function', () => {
    const rule = { pattern: /^[a-z]+$/, expected: 'lower-case letters' };
    expect(readString({ A: 'abc' }, 'A', rule)).toBe('abc');
    expect(configError(() => readString({ A: 'ABC' }, 'A', rule)).message).toBe('A must be lower-case letters, got "ABC"');
    const odd = { problem: (v: string) => (v.length % 2 ? 'odd length' : undefined), expected: 'an even-length id' };
    expect(readString({ A: 'ab' }, 'A', odd)).toBe('ab');
    expect(configError(() => readString({ A: 'abc' }, 'A', odd)).message).toBe('A must be an even-length id (odd length), got "abc"');
  });

  it('checks the fallback too, so a bad default is caught in tests rather than in production', () => {
    expect(configError(() => readName({}, 'QUEUE', 'a b')).variable).toBe('QUEUE');
  });
});

describe('readInt', () => {
  it('reads whole numbers in range and defaults when unset', () => {
    expect(readInt({}, 'N', 7, 1, 10)).toBe(7);
    expect(readInt({ N: ' 10 ' }, 'N', 7, 1, 10)).toBe(10);
    expect(readInt({ N: '1' }, 'N', 7, 1, 10)).toBe(1);
  });

  it.each(['0', '11', '-1', '1.5', '1e3', 'ten', '0x5', '99999999999999999999'])('refuses %j', (value) => {
    const error = configError(() => readInt({ N: value }, 'N', 7, 1, 10));
    expect(error.message).toBe(`N must be a whole number from 1 to 10, got ${JSON.stringify(value)}`);
  });
});

describe('readDurationMs', () => {
  const range = { min: 1000, max: 86_400_000 };
  it('reads ms and unit forms', () => {
    expect(readDurationMs({}, 'D', 3_600_000, range)).toBe(3_600_000);
    expect(readDurationMs({ D: '1500' }, 'D', 0, range)).toBe(1500);
    expect(readDurationMs({ D: '1500ms' }, 'D', 0, range)).toBe(1500);
    expect(readDurationMs({ D: '90s' }, 'D', 0, range)).toBe(90_000);
    expect(readDurationMs({ D: '5m' }, 'D', 0, range)).toBe(300_000);
    expect(readDurationMs({ D: '1h' }, 'D', 0, range)).toBe(3_600_000);
  });

  it('accepts 0 below the minimum only when 0 means off', () => {
    expect(readDurationMs({ D: '0' }, 'D', 5000, { ...range, zeroMeansOff: true })).toBe(0);
    expect(readDurationMs({ D: '0s' }, 'D', 5000, { ...range, zeroMeansOff: true })).toBe(0);
    expect(configError(() => readDurationMs({ D: '0' }, 'D', 5000, range)).message).toBe(
      'D must be a duration in ms (or with a unit: 90s, 5m, 1h) from 1000 to 86400000, got "0"',
    );
  });

  it.each(['999', '25h', '1.5s', '-5', '10 s', '1d', 'hour'])('refuses %j naming the range', (value) => {
    const error = configError(() => readDurationMs({ D: value }, 'D', 0, { ...range, zeroMeansOff: true }));
    expect(error.variable).toBe('D');
    expect(error.message).toContain('from 1000 to 86400000, or 0 for off');
  });
});

describe('readEnum and readLogLevel', () => {
  it('accepts a listed value and defaults when unset', () => {
    expect(readEnum({ M: 'b' }, 'M', ['a', 'b'] as const, 'a')).toBe('b');
    expect(readEnum({}, 'M', ['a', 'b'] as const, 'a')).toBe('a');
    expect(readLogLevel({})).toBe('info');
    expect(readLogLevel({ LOG_LEVEL: 'silent' })).toBe('silent');
  });

  it('lists the allowed values when refusing', () => {
    expect(configError(() => readEnum({ M: 'c' }, 'M', ['a', 'b'] as const, 'a')).message).toBe('M must be one of a, b, got "c"');
    expect(configError(() => readLogLevel({ LOG_LEVEL: 'loud' })).message).toMatch(/^LOG_LEVEL must be one of fatal, error, warn, info/);
  });
});

describe('readName and readHost', () => {
  it('reads safe names and hosts', () => {
    expect(readName({ Q: 'video_processing.v2-a' }, 'Q', 'x')).toBe('video_processing.v2-a');
    expect(readHost({})).toBe('0.0.0.0');
    expect(readHost({ HOST: '::1' })).toBe('::1');
    expect(readHost({ HOST: 'api.internal' })).toBe('api.internal');
  });

  it.each([
    [{ Q: 'a:b' }, () => readName({ Q: 'a:b' }, 'Q', 'x'), 'Q', '1-64 letters, digits or _ . -'],
    [{ Q: 'x'.repeat(65) }, () => readName({ Q: 'x'.repeat(65) }, 'Q', 'x'), 'Q', '1-64 letters'],
    [{ HOST: 'a host' }, () => readHost({ HOST: 'a host' }), 'HOST', 'an interface address or host name'],
  ])('%j → %s', (_env, run, variable, form) => {
    const error = configError(run);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(form);
  });
});

describe('readList and readNameList', () => {
  it('splits on commas, drops blanks, and keeps "empty" apart from "unset"', () => {
    expect(readNameList({ L: 'emails, reports,,' }, 'L', ['d'])).toEqual(['emails', 'reports']);
    expect(readNameList({ L: '' }, 'L', ['d'])).toEqual([]);
    expect(readNameList({}, 'L', ['d'])).toEqual(['d']);
    expect(readList({ L: '1,22' }, 'L', [], { pattern: /^\d+$/, expected: 'numbers' })).toEqual(['1', '22']);
  });

  it('refuses a list with one bad item, showing the whole value', () => {
    const error = configError(() => readNameList({ L: 'ok,b@d' }, 'L', []));
    expect(error.message).toBe('L must be a comma-separated list of names (letters, digits, _ . -), got "ok,b@d"');
  });
});

describe('URLs', () => {
  const env = (value: string): Env => ({ REDIS_URL: value });
  it('reads redis:// and rediss:// URLs; unset is undefined unless required', () => {
    expect(readRedisUrl(env('redis://127.0.0.1:6390'))).toBe('redis://127.0.0.1:6390');
    expect(readRedisUrl(env('rediss://u:p@r.internal:6380/2'))).toBe('rediss://u:p@r.internal:6380/2');
    expect(readRedisUrl({})).toBeUndefined();
    expect(configError(() => requireRedisUrl({})).message).toBe('REDIS_URL must be a Redis URL like redis://host:6379 (required), got nothing');
  });

  it('refuses what does not parse and other schemes', () => {
    expect(configError(() => readRedisUrl(env('localhost:6379'))).message).toBe(
      'REDIS_URL must be a Redis URL like redis://host:6379 (scheme redis: or rediss:), got "localhost:6379"',
    );
    expect(configError(() => readRedisUrl(env('not a url'))).message).toBe('REDIS_URL must be a Redis URL like redis://host:6379, got "not a url"');
    expect(configError(() => readRedisUrl(env('http://x:1'))).expected).toContain('scheme redis: or rediss:');
  });

  it('reads a Redis Cluster as redis+cluster:// (or rediss+cluster://) and a list of host:port nodes', () => {
    const url = 'redis+cluster://10.0.0.1:7000,10.0.0.2:7001,redis-2.internal:7002';
    expect(readRedisUrl(env(url))).toBe(url);
    expect(requireRedisUrl(env('rediss+cluster://u:p%40ss@[::1]:7000/'))).toBe('rediss+cluster://u:p%40ss@[::1]:7000/');
    for (const bad of ['redis+cluster://', 'redis+cluster://a:7000,b', 'redis+cluster://a:7000,,b:7001', 'redis+cluster://a:99999', 'redis+cluster://a:7000/0']) {
      const error = configError(() => readRedisUrl(env(bad)));
      expect(error.message).toBe(
        `REDIS_URL must be a Redis Cluster URL like redis+cluster://host1:6379,host2:6379 (nodes as host:port), got ${JSON.stringify(bad)}`,
      );
    }
  });

  it('reads any scheme set through readUrl', () => {
    const rule = { schemes: ['ws', 'wss'], example: 'ws://gw:8080/api/v1/ws', kind: 'a WebSocket URL' };
    expect(readUrl({ W: 'wss://gw/api/v1/ws' }, 'W', rule)).toBe('wss://gw/api/v1/ws');
    expect(configError(() => readUrl({ W: 'https://gw' }, 'W', rule)).message).toBe(
      'W must be a WebSocket URL like ws://gw:8080/api/v1/ws (scheme ws: or wss:), got "https://gw"',
    );
  });
});
