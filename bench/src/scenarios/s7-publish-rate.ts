/**
 * S7, standalone (issue 12, item 4): the same measurement `npm run bench` runs after its passes
 * (publish-rate.ts), with its own sizes, written as its own Markdown report.
 *
 *   npx tsx bench/src/scenarios/s7-publish-rate.ts [--seconds=3] [--rounds=3] [--batch=100] [--out=bench/results/<file>.md]
 */
import { writeFileSync } from 'node:fs';
import { scriptArgs } from '../script-args';
import { measurePublishRate, publishRateMarkdown } from './publish-rate';

const args = scriptArgs();

async function main(): Promise<void> {
  const result = await measurePublishRate({ seconds: Number(args.seconds ?? 3), rounds: Number(args.rounds ?? 3), batch: Number(args.batch ?? 100) });
  const report = [`# S7: events stored and published per second (${result.at})`, '', ...publishRateMarkdown(result)].join('\n');
  process.stdout.write(report);
  if (args.out) writeFileSync(args.out, report);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
