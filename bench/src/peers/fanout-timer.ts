/**
 * Server-side fan-out time of the benchmark's own servers (the ceiling and the Socket.IO nodes): how long
 * one node spends handing one message to all of its local subscribers, by kind of target. Read and
 * reset over HTTP at `GET /bench/fanout` between scenarios.
 */
import { Histogram } from '../stats/histogram';

/** What a broadcast targets. */
export type FanoutKind = 'task' | 'user' | 'project';

/** Fan-out durations by target kind, since the last drain. */
export class FanoutTimer {
  private byKind: Record<FanoutKind, Histogram> = { task: new Histogram(), user: new Histogram(), project: new Histogram() };

  /** Records one fan-out that started at `startNs` (process.hrtime.bigint()). */
  record(kind: FanoutKind, startNs: bigint): void {
    this.byKind[kind].record(Number(process.hrtime.bigint() - startNs) / 1000);
  }

  /** The histograms as JSON, then starts over. */
  drain(): string {
    const json = JSON.stringify({ task: this.byKind.task.toJSON(), user: this.byKind.user.toJSON(), project: this.byKind.project.toJSON() });
    for (const h of Object.values(this.byKind)) h.reset();
    return json;
  }
}
