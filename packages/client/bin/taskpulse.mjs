#!/usr/bin/env node
// The `taskpulse` command. The sources are TypeScript run with tsx (as every taskpulse entry point is): register it, then run.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
