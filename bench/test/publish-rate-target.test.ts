/** The S7 target rows (issue 12 item 4): judged against the floor of the same run, a miss names its bound. */
import { describe, expect, it } from 'vitest';
import { SMOKE } from '../src/config';
import { markdownReport } from '../src/report/markdown';
import { judgeTargets } from '../src/report/targets';
import { API_BATCH_PHASE, FLOOR_PHASE, REPORTER_BATCH_PHASE, type PublishRatePhase, type PublishRateResult } from '../src/scenarios/publish-rate';

const phase = (name: string, perSecond: number, extra: Partial<PublishRatePhase> = {}): PublishRatePhase => ({
  name,
  what: name,
  perSecond,
  delivered: 10,
  stored: 10,
  redisCpu: 0.5,
  benchCpu: 0.4,
  redisMicros: 12,
  clientMicros: 20,
  ...extra,
});

const result = (reporter: number, api: number): PublishRateResult => ({
  at: '2026-12-03T00:00:00Z',
  options: { seconds: 1, rounds: 1, batch: 10 },
  tasks: 100,
  frameBytes: 300,
  messageBytes: 42,
  phases: [phase(FLOOR_PHASE, 60_000), phase(REPORTER_BATCH_PHASE, reporter), phase(API_BATCH_PHASE, api, { apiCpu: 0.9, clientMicros: 45 })],
  commandStats: [],
  loadAverage: [1, 1, 1],
});

const s7Rows = (r?: PublishRateResult) => judgeTargets(SMOKE, {}, r).filter((row) => row.target.includes('issue 12 item 4'));

describe('S7 target rows', () => {
  it('passes at 50 % of the floor and misses below it, naming what bounds the miss', () => {
    const [reporter, api] = s7Rows(result(30_000, 20_000));
    expect(reporter).toMatchObject({ result: 'pass', measured: '30k/s = 50 % of 60k/s', bound: '' });
    expect(api).toMatchObject({ result: 'miss' });
    expect(api!.bound).toContain('client 45 µs');
    expect(api!.bound).toContain('the client (bench process + API) bounds it first');
  });

  it('says n/a when S7 did not run, and the report carries its table when it did', () => {
    expect(s7Rows().map((row) => row.result)).toEqual(['n/a', 'n/a']);
    const report = {
      startedAt: 'x',
      finishedAt: 'x',
      seconds: 1,
      config: SMOKE,
      machine: { cores: 2, model: 'm', memoryGB: 1, node: 'v20', kernel: 'k', loadAverageAtStart: [0, 0, 0], openFilesLimit: 1 },
      systems: {},
      targets: s7Rows(result(30_000, 20_000)),
      notes: [],
      publishRate: result(30_000, 20_000),
    };
    const text = markdownReport(report, 'chart.svg');
    expect(text).toContain('## S7 publishing');
    expect(text).toContain(`| ${REPORTER_BATCH_PHASE} | 30,000 | 50 % |`);
  });
});
