/** Text forms of a task view for the terminal: a progress bar line and short durations. */
import type { TaskView } from '../task-view';

const BAR_WIDTH = 24;

/** `1.2 s`, `42 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** `[##########--------------]  42% 视频转码 (2/4) 正在转码视频... · 3.1 s · ETA 4.0 s` */
export function progressLine(view: TaskView, now: number = Date.now()): string {
  const pct = Math.max(0, Math.min(100, view.progress ?? 0));
  const filled = Math.round((pct / 100) * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  const step = view.step ? ` ${view.step}${view.totalSteps > 0 ? ` (${view.completedSteps}/${view.totalSteps})` : ''}` : '';
  const message = view.message ? ` ${view.message}` : '';
  const elapsed = view.elapsedMs(now);
  const eta = view.etaMs(now);
  return `${bar} ${String(Math.round(pct)).padStart(3)}%${step}${message}${elapsed === undefined ? '' : ` · ${formatDuration(elapsed)}`}${eta === undefined ? '' : ` · ETA ${formatDuration(eta)}`}`;
}
