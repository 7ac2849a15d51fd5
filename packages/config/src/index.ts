export { ConfigError, type Env } from './config-error';
export {
  LOG_LEVELS,
  readDurationMs,
  readEnum,
  readHost,
  readInt,
  readList,
  readLogLevel,
  readName,
  readNameList,
  readRaw,
  readString,
  type DurationRange,
  type LogLevel,
  type StringRule,
} from './env-readers';
export { readRedisUrl, readUrl, requireRedisUrl, requireUrl, type UrlRule } from './url-readers';
export { describeVariable, describingEnv, type VariableDescription } from './describe';
export { configOrExit, exitOnSignals, type ShutdownLogger } from './entry-point';
