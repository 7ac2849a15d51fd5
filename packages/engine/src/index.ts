export * from './engine';
export * from './errors';
export { bindRoles, composeEngine, type RoleMethods } from './compose-engine';
export { createMemoryEngine, MemoryEngine, type MemoryEngineOptions } from './memory-engine';
export { createRedisEngine, RedisEngine, type RedisEngineOptions } from './redis-engine';
export type { EngineLogger } from './engine-logger';
export { ScriptCode } from './script-codes';
export { sumNodeReports } from './shared';
export { createRedisEngineMetrics, type RedisEngineMetrics, type RedisConnectionRole } from './redis-metrics';
