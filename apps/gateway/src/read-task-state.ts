/**
 * What a subscriber is sent before live frames: the task's latest frames, or, when it resumes with an
 * offset and epoch, exactly the frames it missed. A resume is `recovered` only when the epoch is the
 * current one and the replay reaches contiguously from its offset to the newest; anything else is
 * answered with the latest snapshot and `recovered: false`, so a client is never told "nothing missed"
 * across a hole.
 */
import { LIMITS } from '@taskpulse/protocol';
import type { TaskStore } from '@taskpulse/engine';

export interface TaskStateRead {
  /** Frames to send before the ack, oldest first. */
  frames: Buffer[];
  /** The newest offset the read saw (0 for an unknown task): held live frames at or below it are already covered. */
  offset: number;
  epoch?: string;
  recovered: boolean;
}

/** Reads a new subscriber's starting state; `position` is the client's resume point, when it sent one. */
export async function readTaskState(
  tasks: Pick<TaskStore, 'latest' | 'replay'>,
  taskId: string,
  position?: { offset: number; epoch: string },
): Promise<TaskStateRead> {
  if (position) {
    const replay = await tasks.replay(taskId, position.offset, LIMITS.historyEntries);
    // Exact means: same epoch, history reaches back, and one frame for every offset up to the newest.
    if (
      replay &&
      replay.epoch === position.epoch &&
      replay.complete &&
      position.offset <= replay.offset &&
      replay.frames.length === replay.offset - position.offset
    ) {
      return { frames: replay.frames, offset: replay.offset, epoch: replay.epoch, recovered: true };
    }
  }
  const state = await tasks.latest(taskId);
  if (!state) return { frames: [], offset: 0, recovered: false };
  return { frames: state.frames, offset: state.offset, epoch: state.epoch, recovered: false };
}
