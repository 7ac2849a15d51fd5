/** `npm start` (apps/start.ts: gateway and API on one port, memory engine) as a child process, and REST helpers. */
import { freePort, startTsProcess, type ManagedProcess } from '@taskpulse/testkit';

const startFile = new URL('../../../../apps/start.ts', import.meta.url).pathname;

export interface RunningServer {
  port: number;
  base: string;
  process: ManagedProcess;
  post(path: string, body: unknown): Promise<Response>;
  /** Publishes one event of a hand-driven task (start, progress n of total, complete or fail). */
  start(taskId: string): Promise<void>;
  progress(taskId: string, step: number, total: number): Promise<void>;
  complete(taskId: string, result?: unknown): Promise<void>;
}

/** Starts npm start's composition on a free port; `env` adds variables (e.g. AUTH_MODE). */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const proc = startTsProcess(startFile, { PORT: String(port), REDIS_URL: '', LOG_LEVEL: 'warn', STEP_DELAY_MS: '300', ...env });
  await proc.waitForOutput(/taskpulse listening on \S+/, 30_000);
  const base = `http://127.0.0.1:${port}`;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ok = async (res: Promise<Response>) => {
    const answer = await res;
    if (answer.status >= 300) throw new Error(`${answer.url}: ${answer.status} ${await answer.text()}`);
  };
  return {
    port,
    base,
    process: proc,
    post,
    start: (taskId) => ok(post(`/api/v1/tasks/${taskId}/start`, { user_id: 'user-123', project_id: 'project-456' })),
    progress: (taskId, step, total) =>
      ok(post(`/api/v1/progress/${taskId}`, { progress: Math.round((step / total) * 100), message: `step ${step}`, current_step: `step-${step}`, completed_steps: step, total_steps: total })),
    complete: (taskId, result = { ok: true }) => ok(post(`/api/v1/tasks/${taskId}/complete`, { result })),
  };
}
