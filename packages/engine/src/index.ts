export * from './engine';
export * from './errors';
export { createMemoryEngine, MemoryEngine, type MemoryEngineOptions } from './memory-engine';
export { sumNodeReports } from './shared';
