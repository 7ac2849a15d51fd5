/**
 * History pages carry their frames twice: one by one, and joined into one JSON array text (`items`) that
 * readers send on as it is. Both engines join with joinFrames, so their `items` bytes cannot drift apart.
 */
import type { HistoryPage } from './engine';

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** `[frame,frame,…]` in the order given, copied once. */
export function joinFrames(frames: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [OPEN];
  frames.forEach((frame, index) => {
    if (index > 0) parts.push(COMMA);
    parts.push(frame);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** A page of `frames` (newest first, the stored Buffers) at the task's offset and epoch. */
export function historyPage(offset: number, epoch: string, frames: Buffer[]): HistoryPage {
  return { offset, epoch, count: frames.length, items: joinFrames(frames), frames };
}
