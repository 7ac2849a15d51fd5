/** The notice that a task's sequence restarted in a new epoch, seen live (task-relay.ts, topic-handover.ts). */
import { encodeAckFrame } from '@taskpulse/protocol';

/**
 * The `resync` ack sent before the first frame of a new epoch seen live: `recovered: false`, the new epoch,
 * and offset = that frame's offset - 1 (0 for a task restarted from scratch), i.e. the position the client
 * holds once it had the notice, so a resume from it continues with that frame.
 */
export function epochChangeNotice(taskId: string, offset: number, epoch: string | undefined): string {
  return encodeAckFrame('resync', { taskId, recovered: false, offset: Math.max(0, offset - 1), epoch });
}
