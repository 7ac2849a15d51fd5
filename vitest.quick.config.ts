/**
 * `npm run test:quick`: the edit-test loop. Every package and app suite in one process on memory and Redis,
 * without what is slow by design: browser tests (Chromium), tests that start child processes (main.ts
 * entry points, killed gateways, the jwt gateway, the upgrade fuzzer), the bench harness and the
 * multi-process e2e, failure and security suites under test/. `npm test` still runs everything.
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

export const SLOW_TESTS = [
  'test/**',
  'bench/test/**',
  '**/browser-*.test.ts',
  'apps/*/test/main.test.ts',
  'apps/api/test/start.test.ts',
  'apps/api/test/rate-limit.test.ts',
  'apps/gateway/test/jwt-gateway.test.ts',
  'apps/gateway/test/gateway-kill.test.ts',
  'apps/gateway/test/upgrade.fuzz.test.ts',
];

export default mergeConfig(base, defineConfig({ test: { exclude: ['**/node_modules/**', ...SLOW_TESTS] } }));
