/**
 * What a worker reports about a task, before it is encoded. The reporter, the HTTP publish endpoints and
 * the BullMQ bridge all speak this one shape; the engine stores and fans it out.
 */
export type TaskEvent =
  | { kind: 'start'; taskId: string; userId?: string; projectId?: string; timestamp?: string }
  | {
      kind: 'progress';
      taskId: string;
      progress: number;
      message?: string;
      currentStep?: string;
      completedSteps?: number;
      totalSteps?: number;
      timestamp?: string;
    }
  | { kind: 'complete'; taskId: string; result?: unknown; timestamp?: string }
  | { kind: 'fail'; taskId: string; error: string; timestamp?: string }
  | { kind: 'cancel'; taskId: string; reason?: string; timestamp?: string };

/** The guide's ProgressMessage for broadcasts: progress and message, the rest optional. */
export interface BroadcastMessage {
  progress: number;
  message?: string;
  currentStep?: string;
  completedSteps?: number;
  totalSteps?: number;
  timestamp?: string;
}
