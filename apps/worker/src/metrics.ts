/**
 * The worker's Prometheus metrics (`taskpulse_worker_<name>_<unit>`), on a registry passed in: jobs
 * finished by outcome, and job duration. Labels: the queue (configured, one per process) and the outcome.
 */
import type { Worker } from 'bullmq';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Counts the jobs `worker` finishes on `registry`. */
export function instrumentWorker(worker: Worker, queueName: string, registry: Registry): void {
  const jobs = new Counter({
    name: 'taskpulse_worker_jobs_total',
    help: 'Jobs the worker finished, by queue and outcome (completed, failed).',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'taskpulse_worker_job_duration_seconds',
    help: 'Time from a job starting to finishing on this worker, by queue.',
    labelNames: ['queue'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  for (const outcome of ['completed', 'failed']) jobs.inc({ queue: queueName, outcome }, 0);
  const finished = (outcome: 'completed' | 'failed', processedOn: number | undefined, finishedOn: number | undefined) => {
    jobs.inc({ queue: queueName, outcome });
    if (processedOn !== undefined) duration.observe({ queue: queueName }, Math.max(0, (finishedOn ?? Date.now()) - processedOn) / 1000);
  };
  worker.on('completed', (job) => finished('completed', job.processedOn, job.finishedOn));
  worker.on('failed', (job) => finished('failed', job?.processedOn, job?.finishedOn));
}
