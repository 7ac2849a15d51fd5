/**
 * A job worker for the failure test, run as its own process: the real reporter on the Redis engine
 * (one Redis or a cluster, by REDIS_URL).
 * Starts each of its tasks, publishes progress round-robin at a fixed rate for a fixed count (bounded in
 * time too), then ends every task (completed, or failed/cancelled for some). It survives Redis restarts:
 * a publish that failed with EngineUnavailableError is retried (bounded), and what could still not be
 * published is counted, never hidden. Writes what it published, per task, as JSON to PUBLISHER_OUT.
 *
 * Environment: REDIS_URL, KEY_PREFIX, PUBLISHER_TASKS (comma list), PUBLISHER_RATE (events/s),
 * PUBLISHER_COUNT (progress events in all), PUBLISHER_OUT (path), PUBLISHER_DEADLINE_MS.
 */
import { writeFileSync } from 'node:fs';
import { createRedisEngineForUrl, EngineUnavailableError, TaskFinishedError } from '@taskpulse/engine';
import { createReporter, type Reported } from '@taskpulse/reporter';

/** What one publisher did, read by the test. */
export interface PublisherReport {
  /** Progress events published (a reply received). */
  progressPublished: number;
  /** Events that could not be published after every retry, by kind. */
  unpublished: { start: number; progress: number; terminal: number };
  /** Publishes that failed with EngineUnavailableError and were tried again. */
  retries: number;
  /** Per task: [epoch, offset, kind] of every event whose publish was confirmed, in order. */
  published: Record<string, Array<[string, number, 'start' | 'progress' | 'terminal']>>;
  /** Per task, the terminal status it was given (confirmed). */
  terminal: Record<string, 'completed' | 'failed' | 'cancelled'>;
  /** Per confirmed event: [when its first attempt began (ms since the epoch), ms until confirmed (retries included), task]. */
  latencies: Array<[startedAt: number, ms: number, taskId: string]>;
  /** Failed attempts by error message (task ids replaced by `<task>`), with the first and last time seen. */
  errors: Record<string, { count: number; first: number; last: number }>;
}

const MAX_ATTEMPTS = 40;
const RETRY_DELAY_MS = 250;

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`publisher: ${name} is required`);
  return value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The terminal status for a task by its index: most complete, every 7th fails, every 11th is cancelled. */
function terminalFor(index: number): 'completed' | 'failed' | 'cancelled' {
  if (index % 11 === 10) return 'cancelled';
  if (index % 7 === 6) return 'failed';
  return 'completed';
}

async function main(): Promise<void> {
  const tasks = need('PUBLISHER_TASKS').split(',');
  const rate = Number(need('PUBLISHER_RATE'));
  const count = Number(need('PUBLISHER_COUNT'));
  const out = need('PUBLISHER_OUT');
  const deadline = Date.now() + Number(process.env.PUBLISHER_DEADLINE_MS ?? 120_000);
  const engine = createRedisEngineForUrl(need('REDIS_URL'), { prefix: need('KEY_PREFIX') });
  await engine.ready();
  const reporter = createReporter(engine);
  const report: PublisherReport = {
    progressPublished: 0,
    unpublished: { start: 0, progress: 0, terminal: 0 },
    retries: 0,
    published: Object.fromEntries(tasks.map((t) => [t, []])),
    terminal: {},
    latencies: [],
    errors: {},
  };

  /** Publishes with bounded retries; returns null when every attempt failed. A terminal repeated after a lost reply counts as done. */
  async function attempt(taskId: string, kind: 'start' | 'progress' | 'terminal', call: () => Promise<Reported>): Promise<Reported | 'done' | null> {
    const startedAt = Date.now();
    for (let i = 1; i <= MAX_ATTEMPTS; i++) {
      try {
        const result = await call();
        report.published[taskId]!.push([result.epoch, result.offset, kind]);
        report.latencies.push([startedAt, Date.now() - startedAt, taskId]);
        return result;
      } catch (error) {
        const message = (error instanceof Error ? error.message : String(error)).replaceAll(taskId, '<task>');
        const seen = (report.errors[message] ??= { count: 0, first: Date.now(), last: 0 });
        seen.count++;
        seen.last = Date.now();
        // The first attempt may have been stored before its reply was lost: the task is already ended.
        if (error instanceof TaskFinishedError && kind === 'terminal' && i > 1) return 'done';
        if (!(error instanceof EngineUnavailableError) || i === MAX_ATTEMPTS || Date.now() > deadline) {
          process.stderr.write(`publisher: ${kind} for ${taskId} not published: ${error instanceof Error ? error.message : String(error)}\n`);
          report.unpublished[kind]++;
          return null;
        }
        report.retries++;
        await sleep(RETRY_DELAY_MS);
      }
    }
    return null;
  }

  for (const [i, taskId] of tasks.entries()) await attempt(taskId, 'start', () => reporter.notifyTaskStart(taskId, `user-${i % 5}`, 'failure-test'));
  process.stdout.write(`publisher publishing ${count} events at ${rate}/s on ${tasks.length} tasks\n`);
  // where a stalled run stands: the events confirmed so far, every 2 s
  const progress = setInterval(() => process.stdout.write(`publisher at ${new Date().toISOString()}: ${report.latencies.length} events confirmed, ${report.retries} retries\n`), 2000);
  progress.unref();

  const started = Date.now();
  const perTask = new Map<string, number>();
  for (let n = 0; n < count && Date.now() < deadline; n++) {
    // Paced by schedule: after an outage it catches up at full speed rather than dropping events.
    const due = started + (n * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    const taskId = tasks[n % tasks.length]!;
    const step = (perTask.get(taskId) ?? 0) + 1;
    perTask.set(taskId, step);
    const percent = Math.min(99, Math.round((step / Math.ceil(count / tasks.length)) * 9900) / 100);
    const result = await attempt(taskId, 'progress', () => reporter.updateProgress(taskId, percent, `step ${step}`));
    if (result) report.progressPublished++;
  }

  for (const [i, taskId] of tasks.entries()) {
    const status = terminalFor(Number(taskId.split('-').pop()) || i);
    const result = await attempt(taskId, 'terminal', () => {
      if (status === 'failed') return reporter.notifyTaskFailed(taskId, new Error('failure test: planned failure'));
      if (status === 'cancelled') return reporter.notifyTaskCancelled(taskId, 'failure test: planned cancel');
      return reporter.notifyTaskComplete(taskId, { ok: true });
    });
    if (result) report.terminal[taskId] = status;
  }
  writeFileSync(out, JSON.stringify(report));
  process.stdout.write(`publisher ended every task; closing the engine\n`);
  await engine.close();
  process.stdout.write(`publisher done: ${report.progressPublished} progress published, ${report.retries} retries\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`publisher: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
