/** The engine contract suite on every backend of the test matrix (@taskpulse/testkit/engines). */
import { ENGINE_MATRIX } from '@taskpulse/testkit/engines';
import { runEngineContract } from './engine-contract';

for (const backend of ENGINE_MATRIX) runEngineContract(backend.name, (prefix) => backend.open(prefix));
