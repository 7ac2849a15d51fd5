/**
 * What a plain BullMQ job's `job.updateProgress(value)` means as a task event: a number is a percent; an
 * object may carry {progress|percent, message, current_step|step, completed_steps, total_steps}.
 */
import type { TaskEvent } from '@taskpulse/protocol';
import { ReporterInputError, printableId } from './errors';
import { stepsPercent } from './reporter';

const METHOD = 'bullmq progress';

/** Builds the progress event for `data`; throws ReporterInputError when the value cannot be one. */
export function progressEventOf(taskId: string, data: unknown, timestamp: string): TaskEvent {
  if (typeof data === 'number') return { kind: 'progress', taskId, progress: data, timestamp };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    const got = Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data;
    throw new ReporterInputError(METHOD, 'progress', `progress must be a number or an object, got ${got}`, printableId(taskId));
  }
  const value = data as Record<string, unknown>;
  const completedSteps = value.completed_steps as number | undefined;
  const totalSteps = value.total_steps as number | undefined;
  let progress = value.progress ?? value.percent;
  // Steps alone are enough: derive the percent the way updateProgressWithSteps does.
  if (progress === undefined && typeof completedSteps === 'number' && typeof totalSteps === 'number') {
    progress = stepsPercent(completedSteps, totalSteps);
  }
  if (progress === undefined) {
    const problem = 'progress object needs progress (or percent) or completed_steps with total_steps';
    throw new ReporterInputError(METHOD, 'progress', problem, printableId(taskId));
  }
  // Wrong types are passed on as they came: protocol validation names the field and the value.
  return {
    kind: 'progress',
    taskId,
    progress: progress as number,
    message: value.message as string | undefined,
    currentStep: (value.current_step ?? value.step) as string | undefined,
    completedSteps,
    totalSteps,
    timestamp,
  };
}
