/**
 * The engine contract suite: one set of cases that every engine must pass (memory-engine.test.ts and
 * redis-engine.test.ts run it). Each case gets a fresh random prefix; engines it makes are closed after it.
 * Frames are compared byte for byte with protocol's assembleTaskFrame, so all engines write identical bytes.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Engine } from '../src/index';
import { pubSubAndNodeCases } from './engine-contract-pubsub';
import { readCases } from './engine-contract-reads';
import { storeCases } from './engine-contract-store';
import { uniquePrefix } from '@taskpulse/testkit/engines';

/** Makes an engine on `prefix`; two engines made with one prefix share their data where the engine can. */
export type EngineFactory = (prefix: string) => Promise<Engine>;

/** What a case gets: a fresh prefix, and engines on it that are closed when the case ends. */
export interface ContractContext {
  prefix(): string;
  engine(): Promise<Engine>;
}

/** Registers the contract cases for one engine. */
export function runEngineContract(name: string, factory: EngineFactory): void {
  describe(`engine contract: ${name}`, () => {
    let prefix = '';
    const opened: Engine[] = [];
    const context: ContractContext = {
      prefix: () => prefix,
      async engine() {
        const engine = await factory(prefix);
        opened.push(engine);
        return engine;
      },
    };
    beforeEach(() => {
      prefix = uniquePrefix();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((engine) => engine.close()));
    });
    storeCases(context);
    readCases(context);
    pubSubAndNodeCases(context);
  });
}
