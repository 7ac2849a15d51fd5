import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'test/**/*.test.ts', 'deploy/**/test/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Redis-bound and process-spawning tests share a 2-core machine: one file at a time keeps them honest.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
