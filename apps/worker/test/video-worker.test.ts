/** The demo worker on a real BullMQ queue and a real Redis: the guide's sequence, and a failure with its cause chain. */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { Queue, QueueEvents, type Worker } from 'bullmq';
import { createRedisEngine, type RedisEngine } from '@taskpulse/engine';
import { createReporter } from '@taskpulse/reporter';
import { pino } from 'pino';
import { startVideoWorker, type VideoJobData, type VideoResult } from '../src/index';
import { sequence } from './history';
import { uniquePrefix } from '@taskpulse/testkit/engines';

const silent = pino({ level: 'silent' });

describe('startVideoWorker on a real queue', () => {
  let engine: RedisEngine;
  let queue: Queue<VideoJobData>;
  let events: QueueEvents;
  let worker: Worker<VideoJobData, VideoResult>;

  beforeEach(async () => {
    const url = inject('redisUrl');
    const queueName = `q${randomUUID().slice(0, 8)}`;
    engine = createRedisEngine({ url, prefix: uniquePrefix(), logger: silent });
    await engine.ready();
    queue = new Queue(queueName, { connection: { url } });
    events = new QueueEvents(queueName, { connection: { url } });
    worker = startVideoWorker({ connection: { url }, reporter: createReporter(engine), logger: silent, queueName, stepMs: 10 });
    await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  });

  afterEach(async () => {
    await worker.close();
    await events.close();
    await queue.close();
    await engine.close();
  });

  it('produces start, four steps and complete in the task history', async () => {
    const job = await queue.add('video_processing', { user_id: 'user-123' }, { jobId: 'video-ok' });
    const result = await job.waitUntilFinished(events, 20_000);
    expect(result).toEqual({ video_url: 'https://example.com/videos/video-ok.mp4' });
    expect(await sequence(engine, 'video-ok')).toEqual(['running', '下载视频', '视频转码', '生成缩略图', '上传视频', 'completed']);
  });

  it('reports a failure at a step with the cause chain, and BullMQ sees the job fail', async () => {
    const job = await queue.add('video_processing', { fail_at_step: 3 }, { jobId: 'video-bad' });
    await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow('视频处理失败: 生成缩略图失败');
    expect(await sequence(engine, 'video-bad')).toEqual(['running', '下载视频', '视频转码', '生成缩略图', 'failed']);
    expect(JSON.parse((await engine.latest('video-bad'))!.fields.error!)).toBe('视频处理失败: 生成缩略图失败: 无法解码关键帧');
  });
});
