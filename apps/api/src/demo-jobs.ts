/**
 * The demo job as the API sees it: what `POST /api/v1/demo/jobs` accepts (validated by `demoJobBody` in
 * schemas.ts) and the port it is handed to. The API never runs jobs itself: whoever builds it passes a
 * `DemoJobs` (the BullMQ queue in the cluster, the worker's in-process runner in `npm start`), so the
 * API depends on no other app. The worker reads the same shape as its VideoJobData; apps/start.ts, which
 * passes the worker's runner here, is where the compiler checks the two agree.
 */
import { randomUUID } from 'node:crypto';

/** One demo job: the guide's video_processing example. */
export interface DemoJobInput {
  /** Chosen by the API; the task the job reports under (and its BullMQ job id). */
  task_id: string;
  user_id?: string;
  project_id?: string;
  /** 1-based step (1 download … 4 upload) whose work fails; absent for a job that succeeds. */
  fail_at_step?: number;
  /** Milliseconds each step takes; absent means the worker's STEP_DELAY_MS. */
  step_ms?: number;
}

/** The longest step a client may ask for: a demo job should not hold a worker for minutes. */
export const DEMO_MAX_STEP_MS = 10_000;

/** Where demo jobs go. Implementations are the caller's to close; build() never closes one. */
export interface DemoJobs {
  /** A low-cardinality label for metrics, e.g. `queue` or `in-process`. */
  readonly mode: string;
  /**
   * Resolves once the job is accepted (queued, or its start recorded), with the task id it reports under.
   * A function-typed property, not a method, so the compiler checks an implementation's parameter strictly.
   */
  readonly enqueue: (input: DemoJobInput) => Promise<{ task_id: string }>;
}

/** A new demo task id, valid as a BullMQ job id too (no `:`). */
export function newDemoTaskId(): string {
  return `video-${randomUUID()}`;
}
