/** Reading a task's history in tests as a compact sequence of statuses and step names. */
import type { Engine } from '@taskpulse/engine';

/** History oldest first, as `status` for status frames and `current_step` for progress frames. */
export async function sequence(engine: Engine, taskId: string): Promise<string[]> {
  const page = await engine.history(taskId, 100);
  return (page?.frames ?? [])
    .map((f) => JSON.parse(f.toString()))
    .reverse()
    .map((f) => (f.type === 'status' ? f.payload.status : f.payload.current_step));
}

/** The guide's demo job, start to finish. */
export const GUIDE_SEQUENCE = ['running', '下载视频', '视频转码', '生成缩略图', '上传视频', 'completed'];
