/** Helpers for the engine tests: events, an independent model of the expected frames, channel recorders. */
import { randomUUID } from 'node:crypto';
import {
  assembleTaskFrame,
  encodeTaskEvent,
  type EncodedTaskEvent,
  type SnapshotTexts,
  type TaskEvent,
} from '@taskpulse/protocol';
import { readFrameOffset } from '@taskpulse/protocol/node';
import { waitFor } from '@taskpulse/testkit';
import type { ChannelListener, Engine, PublishResult } from '../src/index';

/** A fresh task id. */
export function randomTaskId(): string {
  return `task-${randomUUID().slice(0, 8)}`;
}

const FIXED_TIME = '2026-02-21T10:30:00.000Z';

export function progressEvent(taskId: string, progress: number, extra: Partial<Extract<TaskEvent, { kind: 'progress' }>> = {}): EncodedTaskEvent {
  return encodeTaskEvent({ kind: 'progress', taskId, progress, message: `at ${progress}`, timestamp: FIXED_TIME, ...extra });
}

export function startEvent(taskId: string, userId?: string, projectId?: string): EncodedTaskEvent {
  return encodeTaskEvent({ kind: 'start', taskId, userId, projectId, timestamp: FIXED_TIME });
}

export function completeEvent(taskId: string, result?: unknown): EncodedTaskEvent {
  return encodeTaskEvent({ kind: 'complete', taskId, result, timestamp: FIXED_TIME });
}

export function failEvent(taskId: string, error: string): EncodedTaskEvent {
  return encodeTaskEvent({ kind: 'fail', taskId, error, timestamp: FIXED_TIME });
}

export function cancelEvent(taskId: string, reason?: string): EncodedTaskEvent {
  return encodeTaskEvent({ kind: 'cancel', taskId, reason, timestamp: FIXED_TIME });
}

/** Narrows a publish result to a published one, failing the test otherwise. */
export function published(result: PublishResult): Extract<PublishResult, { status: 'published' }> {
  if (result.status !== 'published') throw new Error(`expected a published event, got ${result.status}`);
  return result;
}

/**
 * The expected snapshot of one task, kept apart from both engines: applying events in offset order and
 * assembling with protocol's assembleTaskFrame gives the bytes every engine must produce.
 */
export class ExpectedTask {
  fields: SnapshotTexts = {};

  /** Applies the event and returns the frame the engine must have written for it. */
  apply(event: EncodedTaskEvent, offset: number, epoch: string): Buffer {
    for (const [field, value] of event.set) this.fields[field] = value;
    for (const field of event.unset) delete this.fields[field];
    return Buffer.from(assembleTaskFrame(event.frameType, event.taskId, offset, epoch, this.fields));
  }
}

/** Publishes events in order, checking each frame against the model; returns the frames. */
export async function publishChecked(engine: Engine, model: ExpectedTask, events: EncodedTaskEvent[]): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  for (const event of events) {
    const result = published(await engine.publish(event));
    const expected = model.apply(event, result.offset, result.epoch);
    if (!result.frame.equals(expected)) {
      throw new Error(`frame differs from assembleTaskFrame:\n got ${result.frame.toString()}\nwant ${expected.toString()}`);
    }
    frames.push(result.frame);
  }
  return frames;
}

/** Records what a channel delivers. */
export interface Recorder {
  listener: ChannelListener;
  frames: Buffer[];
  channels: string[];
  /** Resolves once `count` frames arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<void>;
}

export function recorder(): Recorder {
  const frames: Buffer[] = [];
  const channels: string[] = [];
  return {
    frames,
    channels,
    listener: (channel, frame) => {
      channels.push(channel);
      frames.push(frame);
    },
    async waitForCount(count, timeoutMs = 10_000) {
      await waitFor(`${count} frames (have ${frames.length})`, () => frames.length >= count, timeoutMs, 5);
    },
  };
}

/** Offsets of task event frames, read the way the gateway reads them. */
export function offsetsOf(frames: Buffer[]): number[] {
  return frames.map((frame) => readFrameOffset(frame));
}

/** What a history page's `items` must be: `[` + the frames joined by `,` + `]`, built here apart from the engines. */
export function joinedFrames(frames: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('['), ...frames.flatMap((frame, i) => (i === 0 ? [frame] : [Buffer.from(','), frame])), Buffer.from(']')]);
}

/** 1..n */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
