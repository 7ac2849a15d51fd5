/** processVideo and the in-process runner on the memory engine: the guide's sequence, failure with its cause chain. */
import { describe, expect, it } from 'vitest';
import { createMemoryEngine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { waitFor } from '@taskpulse/testkit';
import { pino } from 'pino';
import { createInProcessRunner, processVideo, VideoJobDataError, VideoProcessingError } from '../src/index';
import { GUIDE_SEQUENCE, sequence } from './history';

const silent = pino({ level: 'silent' });

describe('processVideo', () => {
  it("reports the guide's start, four steps and completion with the video URL", async () => {
    const engine = createMemoryEngine();
    const reporter = createReporter(engine);
    const result = await processVideo({ id: 'video-1', data: { user_id: 'user-123', project_id: 'project-456' } }, reporter, { stepMs: 1 });
    expect(result).toEqual({ video_url: 'https://example.com/videos/video-1.mp4' });
    expect(await sequence(engine, 'video-1')).toEqual(GUIDE_SEQUENCE);
    const frames = (await engine.history('video-1', 100))!.frames.map((f) => JSON.parse(f.toString())).reverse();
    expect(frames.slice(1, 5).map((f) => [f.payload.progress, f.payload.completed_steps, f.payload.total_steps, f.payload.message])).toEqual([
      [0, 0, 4, '正在下载视频...'],
      [25, 1, 4, '正在转码视频...'],
      [50, 2, 4, '正在生成缩略图...'],
      [75, 3, 4, '正在上传视频...'],
    ]);
    expect(frames[5].payload).toMatchObject({ status: 'completed', result: { video_url: 'https://example.com/videos/video-1.mp4' } });
    const latest = await engine.latest('video-1');
    expect(latest!.fields.user_id).toBe('"user-123"');
  });

  it('fails at the asked step with the cause chain and rejects', async () => {
    const engine = createMemoryEngine();
    const reporter = createReporter(engine);
    const run = processVideo({ id: 'video-2', data: { fail_at_step: 2 } }, reporter, { stepMs: 1 });
    await expect(run).rejects.toBeInstanceOf(VideoProcessingError);
    expect(await sequence(engine, 'video-2')).toEqual(['running', '下载视频', '视频转码', 'failed']);
    const latest = await engine.latest('video-2');
    expect(JSON.parse(latest!.fields.error!)).toBe('视频处理失败: 视频转码失败: ffmpeg 退出，代码 1');
  });

  it('uses data.task_id over the job id', async () => {
    const engine = createMemoryEngine();
    await processVideo({ id: '17', data: { task_id: 'chosen-id' } }, createReporter(engine), { stepMs: 0 });
    expect(await engine.latest('17')).toBeNull();
    expect(await sequence(engine, 'chosen-id')).toEqual(GUIDE_SEQUENCE);
  });
});

describe('processVideo job data', () => {
  it("takes the job's step_ms over the worker's step duration", async () => {
    const engine = createMemoryEngine();
    // A worker default of a minute would time the test out: the job's 0 must win.
    await processVideo({ id: 'fast', data: { step_ms: 0 } }, createReporter(engine), { stepMs: 60_000 });
    expect(await sequence(engine, 'fast')).toEqual(GUIDE_SEQUENCE);
  });

  it.each([
    [{ step_ms: -1 }, 'step_ms'],
    [{ step_ms: 60_001 }, 'step_ms'],
    [{ step_ms: 1.5 }, 'step_ms'],
    [{ step_ms: '5' }, 'step_ms'],
    [{ fail_at_step: 0 }, 'fail_at_step'],
    [{ fail_at_step: 5 }, 'fail_at_step'],
    [{ fail_at_step: '2' }, 'fail_at_step'],
  ])('refuses %j naming the field, and reports nothing', async (data, field) => {
    const engine = createMemoryEngine();
    const run = processVideo({ id: 'bad', data: data as never }, createReporter(engine), { stepMs: 0 });
    await expect(run).rejects.toBeInstanceOf(VideoJobDataError);
    await expect(run).rejects.toMatchObject({ field, message: expect.stringContaining(`${field} must be`) });
    expect(await engine.latest('bad')).toBeNull();
  });
});

describe('createInProcessRunner', () => {
  it('answers once the start is recorded and runs the job to completion', async () => {
    const engine = createMemoryEngine();
    const runner = createInProcessRunner(createReporter(engine), { stepMs: 5, logger: silent });
    const { task_id: taskId } = await runner.enqueue({ user_id: 'u1' });
    expect(taskId).toMatch(/^video-[0-9a-f-]{36}$/);
    expect((await engine.latest(taskId))!.fields.status).toBe('"running"');
    await waitFor('the job to finish', () => runner.running() === 0);
    expect(await sequence(engine, taskId)).toEqual(GUIDE_SEQUENCE);
    await runner.close();
  });

  it('reports a failing job as failed with its cause chain', async () => {
    const engine = createMemoryEngine();
    const runner = createInProcessRunner(createReporter(engine), { stepMs: 1, logger: silent });
    const { task_id: taskId } = await runner.enqueue({ fail_at_step: 4 });
    await waitFor('the job to finish', () => runner.running() === 0);
    expect(await sequence(engine, taskId)).toEqual(['running', '下载视频', '视频转码', '生成缩略图', '上传视频', 'failed']);
    expect(JSON.parse((await engine.latest(taskId))!.fields.error!)).toBe('视频处理失败: 上传视频失败: 对象存储拒绝写入');
    await runner.close();
  });

  it('rejects enqueue when the start cannot be recorded, and after close', async () => {
    const engine = createMemoryEngine();
    const runner = createInProcessRunner(createReporter(engine), { stepMs: 1, logger: silent });
    await expect(runner.enqueue({ user_id: 'not an id' })).rejects.toMatchObject({ field: 'user_id' });
    await runner.close();
    await expect(runner.enqueue({})).rejects.toThrow(/closed/);
  });

  it('close interrupts running jobs and waits for them', async () => {
    const engine = createMemoryEngine();
    const runner = createInProcessRunner(createReporter(engine), { stepMs: 60_000, logger: silent });
    const { task_id: taskId } = await runner.enqueue({});
    expect(runner.running()).toBe(1);
    await runner.close();
    expect(runner.running()).toBe(0);
    expect(await sequence(engine, taskId)).toEqual(['running', '下载视频']);
  });
});
