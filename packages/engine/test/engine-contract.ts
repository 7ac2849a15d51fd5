/**
 * The engine contract suite: one set of cases that every engine must pass, one group per role
 * (engine-contract.test.ts runs it on every backend of testkit's ENGINE_MATRIX). Each case gets a fresh
 * random prefix; engines it makes are closed after it.
 * Frames are compared byte for byte with protocol's assembleTaskFrame, so all engines write identical bytes.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Engine } from '../src/index';
import { nodeRegistryCases } from './engine-contract-nodes';
import { pubSubCases } from './engine-contract-pubsub';
import { readCases } from './engine-contract-reads';
import { sessionStoreCases } from './engine-contract-sessions';
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
    // One group per role, so a backend that replaces one role (composeEngine) is checked by its group.
    describe('TaskStore', () => {
      storeCases(context);
      readCases(context);
    });
    describe('PubSub', () => pubSubCases(context));
    describe('NodeRegistry', () => nodeRegistryCases(context));
    describe('SessionStore', () => sessionStoreCases(context));
  });
}
