/** The failure test's judge, on recorded sequences made up here: each rule can fail. */
import { describe, expect, it } from 'vitest';
import { analyze, type ClientRecord } from './analyze';
import type { ClientEvent } from './recording-client';
import type { PublisherReport } from './publisher-process';

const T = 'task-1';

/** A publisher report for T: start, progress up to `last - 1`, terminal at `last`, per epoch. */
function report(epochs: Array<[string, number]>): PublisherReport {
  const published: PublisherReport['published'] = { [T]: [] };
  for (const [epoch, last] of epochs) {
    for (let o = 1; o <= last; o++) published[T]!.push([epoch, o, o === 1 ? 'start' : o === last ? 'terminal' : 'progress']);
  }
  return { progressPublished: 0, unpublished: { start: 0, progress: 0, terminal: 0 }, retries: 0, published, terminal: { [T]: 'completed' }, latencies: [], errors: {} };
}

function frame(offset: number, epoch = 'e1', extra: Partial<Extract<ClientEvent, { k: 'frame' }>> = {}): ClientEvent {
  return { k: 'frame', task: T, type: 'progress', offset, epoch, conn: 1, ...extra };
}

function client(events: ClientEvent[], terminal = true, killedConn?: number): ClientRecord {
  const record: ClientRecord = { name: 'c', mode: 'restore', tasks: [T], events, terminal: new Map(terminal ? [[T, 'completed']] : []) };
  if (killedConn !== undefined) record.killedConn = killedConn;
  return record;
}

const run = (events: ClientEvent[], epochs: Array<[string, number]> = [['e1', 5]], terminal = true, killedConn?: number) =>
  analyze([client(events, terminal, killedConn)], [report(epochs)]);

describe('failure test analysis', () => {
  it('passes a complete, ordered sequence', () => {
    const f = run([1, 2, 3, 4, 5].map((o) => frame(o)));
    expect([f.lost, f.duplicates, f.terminal_missing, f.delivered]).toEqual([0, 0, 0, 5]);
  });

  it('counts a gap, a missing tail and a missing terminal status', () => {
    const f = run([frame(1), frame(3)], [['e1', 5]], false);
    expect(f.lost).toBe(3);
    expect(f.terminal_missing).toBe(1);
  });

  it('counts a repeat as a duplicate, or as redelivered_after_kill on a killed client’s later connection', () => {
    expect(run([frame(1), frame(2), frame(2), frame(3), frame(4), frame(5)]).duplicates).toBe(1);
    const killed = run([frame(1), frame(2), frame(3), frame(2, 'e1', { conn: 2 }), frame(3, 'e1', { conn: 2 }), frame(4, 'e1', { conn: 2 }), frame(5, 'e1', { conn: 2 })], [['e1', 5]], true, 1);
    expect([killed.duplicates, killed.redelivered_after_kill, killed.lost]).toEqual([0, 2, 0]);
  });

  it('excuses a progress-only gap closed by a frame marked conflated, and nothing else', () => {
    expect(run([frame(1), frame(4, 'e1', { conflated: true }), frame(5)])).toMatchObject({ lost: 0, conflated: 2 });
    expect(run([frame(1), frame(4), frame(5)])).toMatchObject({ lost: 2, conflated: 0 });
  });

  it('fails an epoch change nobody was told about, and excuses one with recovered:false', () => {
    const epochs: Array<[string, number]> = [['e1', 9], ['e2', 3]];
    const untold = run([frame(1), frame(2), frame(1, 'e2'), frame(2, 'e2'), frame(3, 'e2')], epochs);
    expect(untold.untold_epoch_changes).toBe(1);
    const told = run([frame(1), frame(2), frame(1, 'e2'), { k: 'told', task: T, conn: 1 }, frame(2, 'e2'), frame(3, 'e2')], epochs);
    expect([told.untold_epoch_changes, told.lost, told.epoch_changes]).toEqual([0, 0, 1]);
  });

  it('excuses the state frames sent with a resync, but not a later gap', () => {
    const events = [frame(1), frame(2), frame(1), frame(6), { k: 'told', task: T, conn: 1 } as ClientEvent, frame(7), frame(9), frame(10)];
    const f = run(events, [['e1', 10]]);
    expect(f.state_resent).toBe(1);
    expect(f.lost).toBe(1);
  });
});
