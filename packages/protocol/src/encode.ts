/**
 * Turning events into bytes, once. A task's snapshot is a set of fields each kept as JSON text; a task
 * event frame is assembled from the snapshot after the event is applied. The Redis engine does the same
 * assembly in Lua (`publish-task-event-*.lua`); the contract suite checks both give identical bytes.
 */
import type { BroadcastMessage, TaskEvent } from './events';
import type { AckFrame, ErrorFrame } from './frames';
import type { ErrorCode } from './codes';
import { encodeResult, validateTaskEvent } from './validate';

export const SNAPSHOT_FIELDS = [
  'progress',
  'current_step',
  'total_steps',
  'completed_steps',
  'message',
  'status',
  'timestamp',
  'result',
  'error',
  'user_id',
  'project_id',
] as const;

export type SnapshotField = (typeof SNAPSHOT_FIELDS)[number];

/** Snapshot field values, each a JSON text. */
export type SnapshotTexts = Partial<Record<SnapshotField, string>>;

/** A task event ready for an engine: which frame it makes and which snapshot fields it sets or clears. */
export interface EncodedTaskEvent {
  taskId: string;
  frameType: 'progress' | 'status';
  /** Field name and JSON text, in a fixed order. */
  set: Array<[SnapshotField, string]>;
  unset: SnapshotField[];
}

const json = JSON.stringify;

/** Validates and encodes a task event; throws a ProtocolError naming the bad field. */
export function encodeTaskEvent(event: TaskEvent): EncodedTaskEvent {
  validateTaskEvent(event);
  const timestamp = json(event.timestamp ?? new Date().toISOString());
  const taskId = event.taskId;
  switch (event.kind) {
    case 'start': {
      const set: Array<[SnapshotField, string]> = [
        ['status', '"running"'],
        ['progress', '0'],
        ['current_step', '""'],
        ['total_steps', '0'],
        ['completed_steps', '0'],
        ['message', '""'],
        ['timestamp', timestamp],
      ];
      if (event.userId !== undefined) set.push(['user_id', json(event.userId)]);
      if (event.projectId !== undefined) set.push(['project_id', json(event.projectId)]);
      return { taskId, frameType: 'status', set, unset: ['result', 'error'] };
    }
    case 'progress': {
      const set: Array<[SnapshotField, string]> = [
        ['status', '"running"'],
        ['progress', json(event.progress)],
        ['timestamp', timestamp],
      ];
      if (event.message !== undefined) set.push(['message', json(event.message)]);
      if (event.currentStep !== undefined) set.push(['current_step', json(event.currentStep)]);
      if (event.completedSteps !== undefined) set.push(['completed_steps', json(event.completedSteps)]);
      if (event.totalSteps !== undefined) set.push(['total_steps', json(event.totalSteps)]);
      return { taskId, frameType: 'progress', set, unset: [] };
    }
    case 'complete': {
      const set: Array<[SnapshotField, string]> = [
        ['status', '"completed"'],
        ['progress', '100'],
        ['timestamp', timestamp],
      ];
      const result = encodeResult(event.result);
      if (result !== undefined) set.push(['result', result]);
      return { taskId, frameType: 'status', set, unset: result === undefined ? ['result', 'error'] : ['error'] };
    }
    case 'fail':
      return {
        taskId,
        frameType: 'status',
        set: [['status', '"failed"'], ['error', json(event.error)], ['timestamp', timestamp]],
        unset: ['result'],
      };
    case 'cancel': {
      const set: Array<[SnapshotField, string]> = [['status', '"cancelled"'], ['timestamp', timestamp]];
      if (event.reason !== undefined) set.push(['error', json(event.reason)]);
      return { taskId, frameType: 'status', set, unset: event.reason === undefined ? ['result', 'error'] : ['result'] };
    }
  }
}

/**
 * Assembles a task event frame from the snapshot after the event. Field order is fixed: the Lua twin
 * writes the same bytes. The epoch is [a-z0-9] only, so it needs no escaping.
 */
export function assembleTaskFrame(
  frameType: 'progress' | 'status',
  taskId: string,
  offset: number,
  epoch: string,
  f: SnapshotTexts,
): string {
  const tid = json(taskId);
  const head = `{"type":"${frameType}","task_id":${tid},"offset":${offset},"epoch":"${epoch}","payload":{"task_id":${tid}`;
  if (frameType === 'progress') {
    return (
      `${head},"progress":${f.progress ?? '0'},"current_step":${f.current_step ?? '""'}` +
      `,"total_steps":${f.total_steps ?? '0'},"completed_steps":${f.completed_steps ?? '0'}` +
      `,"message":${f.message ?? '""'},"status":${f.status ?? '"running"'},"timestamp":${f.timestamp}}}`
    );
  }
  const result = f.result === undefined ? '' : `,"result":${f.result}`;
  const error = f.error === undefined ? '' : `,"error":${f.error}`;
  return `${head},"status":${f.status}${result}${error},"timestamp":${f.timestamp}}}`;
}

/** Encodes a broadcast to a user's or project's connections (no offset: it is not a task event). */
export function encodeBroadcastFrame(scope: 'user' | 'project', taskId: string, msg: BroadcastMessage): string {
  const tid = json(taskId);
  return (
    `{"type":"progress","task_id":${tid},"scope":"${scope}","payload":{"task_id":${tid}` +
    `,"progress":${json(msg.progress)},"current_step":${json(msg.currentStep ?? '')}` +
    `,"total_steps":${msg.totalSteps ?? 0},"completed_steps":${msg.completedSteps ?? 0}` +
    `,"message":${json(msg.message ?? '')},"status":"running"` +
    `,"timestamp":${json(msg.timestamp ?? new Date().toISOString())}}}`
  );
}

/** The first frame of every connection. */
export function encodeConnectedFrame(clientId: string, userId?: string, projectId?: string, restoredTasks?: readonly string[]): string {
  return json({ type: 'connected', payload: { client_id: clientId, user_id: userId, project_id: projectId, restored_tasks: restoredTasks } });
}

/** An error frame; `requestId` and `taskId` echo the request it answers. */
export function encodeErrorFrame(
  code: ErrorCode,
  message: string,
  extra: { field?: string; requestId?: string; taskId?: string } = {},
): string {
  const frame: ErrorFrame = { type: 'error', payload: { code, message } };
  if (extra.field !== undefined) frame.payload.field = extra.field;
  if (extra.requestId !== undefined) frame.request_id = extra.requestId;
  if (extra.taskId !== undefined) frame.task_id = extra.taskId;
  return json(frame);
}

/** An ack frame for a subscribe, unsubscribe or ping. */
export function encodeAckFrame(
  action: AckFrame['action'],
  extra: { taskId?: string; requestId?: string; recovered?: boolean; offset?: number; epoch?: string } = {},
): string {
  const frame: AckFrame = { type: 'ack', action, payload: {} };
  if (extra.taskId !== undefined) frame.task_id = extra.taskId;
  if (extra.requestId !== undefined) frame.request_id = extra.requestId;
  if (extra.recovered !== undefined) frame.payload.recovered = extra.recovered;
  if (extra.offset !== undefined) frame.payload.offset = extra.offset;
  if (extra.epoch !== undefined) frame.payload.epoch = extra.epoch;
  return json(frame);
}
