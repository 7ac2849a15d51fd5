/**
 * Readers for one environment variable each. A value is trimmed and an empty one counts as unset (so
 * `PORT=` in a .env file means "the default"), except in lists, where empty means "none". Every reader
 * throws ConfigError naming the variable and the expected form; none ever returns a half-valid value.
 */
import { ConfigError, type Env } from './config-error';
import { describeVariable } from './describe';

/** The variable's trimmed value, or undefined when it is unset or blank. */
export function readRaw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export interface StringRule {
  /** The whole value must match. */
  pattern?: RegExp;
  /** Returns what is wrong with the value, or null/undefined when it is fine (for rules a pattern cannot say). */
  problem?: (value: string) => string | null | undefined;
  /** The form, for the error message (e.g. "1-64 letters, digits or _ . -"). */
  expected?: string;
}

/** A string checked against `rule`; `fallback` when unset (undefined when there is none). */
export function readString(env: Env, name: string, rule: StringRule & { fallback: string }): string;
export function readString(env: Env, name: string, rule?: StringRule): string | undefined;
export function readString(env: Env, name: string, rule: StringRule & { fallback?: string } = {}): string | undefined {
  const expected = rule.expected ?? 'a non-empty value';
  describeVariable(env, name, expected, { fallback: rule.fallback });
  const value = readRaw(env, name) ?? rule.fallback;
  if (value === undefined) return undefined;
  if (rule.pattern && !rule.pattern.test(value)) throw new ConfigError(name, expected, value);
  const problem = rule.problem?.(value);
  if (problem !== undefined && problem !== null) throw new ConfigError(name, `${expected} (${problem})`, value);
  return value;
}

/** A whole number in [min, max], or `fallback` when unset. */
export function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  describeVariable(env, name, `a whole number from ${min} to ${max}`, { fallback });
  const value = readRaw(env, name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new ConfigError(name, `a whole number from ${min} to ${max}`, value);
  }
  return number;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export interface DurationRange {
  min: number;
  max: number;
  /** 0 is accepted below `min` and means the feature is off. */
  zeroMeansOff?: boolean;
}

/**
 * A duration in milliseconds: a whole number (ms) or one with a unit, `250ms`, `90s`, `5m`, `1h`, in
 * [min, max]; `fallback` when unset.
 */
export function readDurationMs(env: Env, name: string, fallback: number, range: DurationRange): number {
  const off = range.zeroMeansOff ? ', or 0 for off' : '';
  const expected = `a duration in ms (or with a unit: 90s, 5m, 1h) from ${range.min} to ${range.max}${off}`;
  describeVariable(env, name, expected, { fallback });
  const value = readRaw(env, name);
  if (value === undefined) return fallback;
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS] : Number.NaN;
  if (range.zeroMeansOff && ms === 0) return 0;
  if (!Number.isSafeInteger(ms) || ms < range.min || ms > range.max) throw new ConfigError(name, expected, value);
  return ms;
}

/** One of `allowed`, or `fallback` when unset. */
export function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  describeVariable(env, name, `one of ${allowed.join(', ')}`, { fallback });
  const value = readRaw(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(name, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

/** pino's levels, in order of severity. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino log level, default info. */
export function readLogLevel(env: Env, name = 'LOG_LEVEL'): LogLevel {
  return readEnum(env, name, LOG_LEVELS, 'info');
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_FORM = '1-64 letters, digits or _ . -';

/** A short name (key prefix, queue name): 1-64 letters, digits and _ . - (safe in Redis keys and BullMQ). */
export function readName(env: Env, name: string, fallback: string): string {
  return readString(env, name, { fallback, pattern: NAME, expected: NAME_FORM });
}

/** An interface address or host name to listen on, default 0.0.0.0. */
export function readHost(env: Env, name = 'HOST', fallback = '0.0.0.0'): string {
  return readString(env, name, {
    fallback,
    pattern: /^[A-Za-z0-9.:-]{1,253}$/,
    expected: 'an interface address or host name like 0.0.0.0',
  });
}

/**
 * A comma-separated list whose items each match `pattern`. Blank items are dropped; the default applies
 * only when the variable is unset, so an empty value means an empty list.
 */
export function readList(env: Env, name: string, fallback: string[], rule: { pattern: RegExp; expected: string }): string[] {
  describeVariable(env, name, `a comma-separated list of ${rule.expected}`, { fallback });
  const value = env[name];
  if (value === undefined) return fallback;
  const items = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (items.some((item) => !rule.pattern.test(item))) throw new ConfigError(name, `a comma-separated list of ${rule.expected}`, value);
  return items;
}

/** A comma-separated list of names (queue names): see readName. */
export function readNameList(env: Env, name: string, fallback: string[]): string[] {
  return readList(env, name, fallback, { pattern: NAME, expected: 'names (letters, digits, _ . -)' });
}
