/**
 * `taskpulse tail` as a user runs it: the package's bin in a child process against `npm start`'s composition
 * (another child process). Exit 0 on completed, 1 on failed, 2 on bad usage; `--json` prints one frame per
 * line; the human form prints the state, bars with step and message, and the outcome.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './support/server';

const bin = new URL('../bin/taskpulse.mjs', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin to its end (at most `timeoutMs`, then SIGKILL and a failed assertion on the code). */
function runTail(args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ STEP_DELAY_MS: '400' });
}, 60_000);
afterAll(async () => {
  if (server) expect(await server.process.stop()).toBe(0);
});

async function demoJob(body: Record<string, unknown> = {}): Promise<string> {
  const res = await server.post('/api/v1/demo/jobs', { user_id: 'user-123', ...body });
  expect(res.status).toBe(202);
  return ((await res.json()) as { task_id: string }).task_id;
}

describe('taskpulse tail', () => {
  it('follows a demo job to completed and exits 0, printing bars with step and message', async () => {
    // Slow steps: the bin takes about a second to start, the job must still be early when it subscribes.
    const taskId = await demoJob({ step_ms: 1200 });
    const run = await runTail(['tail', taskId, '--url', server.base]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    // The state first, then a bar per change, with the ETA once two rising frames were seen.
    expect(lines).toContain(`${taskId}: running`);
    expect(lines.some((line) => /^\[#{6}-{18}\]  25% 视频转码 \(1\/4\) 正在转码视频\.\.\. · \d+\.\d s/.test(line))).toBe(true);
    expect(lines.some((line) => /^\[#{12}-{12}\]  50% 生成缩略图 \(2\/4\) .* · ETA \d+\.\d s$/.test(line))).toBe(true);
    expect(lines.at(-2)).toMatch(/^\[#{24}\] 100% 上传视频 \(4\/4\)/);
    expect(lines.at(-1)).toBe(`completed: {"video_url":"https://example.com/videos/${taskId}.mp4"} (${lines.at(-1)!.match(/\(([^)]+)\)$/)![1]})`);
    expect(lines.at(-1)).toMatch(/\(\d+\.\d s\)$/);
  }, 30_000);

  it('prints one JSON frame per line with --json and exits 1 when the task fails', async () => {
    const taskId = await demoJob({ fail_at_step: 2 });
    const run = await runTail(['tail', taskId, '--url', server.base, '--json', '--user', 'user-123']);
    expect(run.code).toBe(1);
    const frames = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; task_id: string; offset: number; payload: { status: string; error?: string } });
    expect(frames.every((frame) => frame.task_id === taskId)).toBe(true);
    const offsets = frames.map((frame) => frame.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(frames.at(-1)).toMatchObject({ type: 'status', payload: { status: 'failed', error: '视频处理失败: 视频转码失败: ffmpeg 退出，代码 1' } });
  }, 30_000);

  it('prints the final state of a task that already ended and exits at once', async () => {
    const taskId = await demoJob({ fail_at_step: 1 });
    const first = await runTail(['tail', taskId, '--url', server.base]);
    expect(first.code).toBe(1);
    const again = await runTail(['tail', taskId, '--url', `ws://127.0.0.1:${server.port}/api/v1/ws`]);
    expect(again.code).toBe(1);
    expect(again.stdout.trim().split('\n').at(-1)).toMatch(/^failed: 视频处理失败: 下载视频失败/);
  }, 30_000);

  it('exits 2 with the usage on bad input', async () => {
    const noTask = await runTail(['tail']);
    expect(noTask.code).toBe(2);
    expect(noTask.stderr).toContain('tail needs a task id');
    expect(noTask.stderr).toContain('usage: taskpulse tail <task_id>');
    const badId = await runTail(['tail', 'bad id!']);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/task_id may contain only/);
    const badUrl = await runTail(['tail', 't1', '--url', 'ftp://x']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/must start with ws:\/\/, wss:\/\/, http:\/\/ or https:\/\//);
  }, 30_000);
});
