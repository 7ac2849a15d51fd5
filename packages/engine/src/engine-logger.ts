/** What the Redis engine logs through: any pino logger (the apps pass theirs). */
import { pino, type Logger } from 'pino';

export type EngineLogger = Pick<Logger, 'warn' | 'error'>;

/** A pino logger for when the caller passes none. */
export function defaultEngineLogger(): EngineLogger {
  return pino({ name: 'taskpulse-engine' });
}
