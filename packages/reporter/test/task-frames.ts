/** Reading what a test's reporter wrote: frames on a channel as they come, and a task's history. */
import type { Engine } from '@taskpulse/engine';

/** Subscribes to a channel and collects the raw frames it receives. */
export async function watch(engine: Engine, channel: string): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  await engine.subscribe(channel, (_channel, frame) => frames.push(frame));
  return frames;
}

/** The task's history, oldest first, parsed. */
export async function historyOf(engine: Engine, taskId: string): Promise<any[]> {
  const page = await engine.history(taskId, 100);
  return page ? page.frames.map((frame) => JSON.parse(frame.toString())).reverse() : [];
}
