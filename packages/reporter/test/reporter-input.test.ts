/**
 * Bad input: every refused call throws ReporterInputError naming the field and what is wrong, and
 * nothing is written: no history entry, no snapshot change, no frame on any channel.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Engine } from '@taskpulse/engine';
import { ProtocolError, projectChannel, taskChannel, userChannel } from '@taskpulse/protocol';
import { waitFor } from '@taskpulse/testkit';
import { ENGINE_MATRIX, closeEngines } from '@taskpulse/testkit/engines';
import { ReporterInputError, createReporter, type ProgressReporter } from '../src/index';
import { historyOf, watch } from './task-frames';

type Case = [name: string, field: string, problem: RegExp, call: (r: ProgressReporter, taskId: string) => Promise<unknown>];

const circular: Record<string, unknown> = {};
circular.self = circular;

const TASK_EVENT_CASES: Case[] = [
  ['percent above 100', 'progress', /progress must be a number from 0 to 100, got 150/, (r, t) => r.updateProgress(t, 150, 'x')],
  ['negative percent', 'progress', /got -1/, (r, t) => r.updateProgress(t, -1, 'x')],
  ['NaN percent', 'progress', /got NaN/, (r, t) => r.updateProgress(t, Number.NaN, 'x')],
  ['percent as a string', 'progress', /got "50"/, (r, t) => r.updateProgress(t, '50' as unknown as number, 'x')],
  ['oversized message', 'message', /at most 2048 characters, got 3000/, (r, t) => r.updateProgress(t, 5, 'm'.repeat(3000))],
  ['completed > total', 'completed_steps', /must not exceed total_steps \(5 > 4\)/, (r, t) => r.updateProgressWithSteps(t, 's', 5, 4)],
  ['negative total', 'total_steps', /whole number/, (r, t) => r.updateProgressWithSteps(t, 's', 0, -1)],
  ['fractional completed', 'completed_steps', /got 1.5/, (r, t) => r.updateProgressWithSteps(t, 's', 1.5, 4)],
  ['NaN steps', 'completed_steps', /got NaN/, (r, t) => r.updateProgressWithSteps(t, 's', Number.NaN, 4)],
  ['oversized step name', 'current_step', /at most 256/, (r, t) => r.updateProgressWithSteps(t, 's'.repeat(300), 1, 4)],
  ['empty user id', 'user_id', /must not be empty/, (r, t) => r.notifyTaskStart(t, '')],
  ['project id with a space', 'project_id', /may contain only/, (r, t) => r.notifyTaskStart(t, 'u', 'my project')],
  ['oversized result', 'result', /at most 65536 bytes/, (r, t) => r.notifyTaskComplete(t, { blob: 'x'.repeat(70_000) })],
  ['circular result', 'result', /JSON-serialisable/, (r, t) => r.notifyTaskComplete(t, circular)],
  ['empty error string', 'error', /non-empty/, (r, t) => r.notifyTaskFailed(t, '')],
  ['error of the wrong type', 'error', /must be an Error or a string, got 42/, (r, t) => r.notifyTaskFailed(t, 42 as unknown as string)],
  ['oversized cancel reason', 'reason', /at most 8192/, (r, t) => r.notifyTaskCancelled(t, 'r'.repeat(9000))],
];

const ID_CASES: Case[] = [
  ['empty task id', 'task_id', /task_id must not be empty/, (r) => r.updateProgress('', 10, 'x')],
  ['task id with braces', 'task_id', /may contain only/, (r) => r.notifyTaskStart('a{b}')],
  ['oversized task id', 'task_id', /at most 128/, (r) => r.notifyTaskComplete('t'.repeat(200))],
];

const BROADCAST_CASES: Case[] = [
  ['empty user id', 'user_id', /must not be empty/, (r, t) => r.broadcastToUser('', t, { progress: 1 })],
  ['empty task id', 'task_id', /must not be empty/, (r) => r.broadcastToUser('user-1', '', { progress: 1 })],
  ['NaN progress', 'progress', /got NaN/, (r, t) => r.broadcastToProject('project-1', t, { progress: Number.NaN })],
  ['progress above 100', 'progress', /got 101/, (r, t) => r.broadcastToUser('user-1', t, { progress: 101 })],
  ['oversized message', 'message', /at most 2048/, (r, t) => r.broadcastToProject('project-1', t, { progress: 5, message: 'm'.repeat(2049) })],
  ['completed > total', 'completed_steps', /must not exceed/, (r, t) => r.broadcastToUser('user-1', t, { progress: 5, completedSteps: 3, totalSteps: 2 })],
  ['missing message object', 'message', /must be an object/, (r, t) => r.broadcastToUser('user-1', t, null as never)],
];

describe.each(ENGINE_MATRIX)('bad input on the $name engine', (backend) => {
  let engine: Engine;
  let reporter: ProgressReporter;
  let taskId: string;
  let live: Buffer[];

  beforeEach(async () => {
    engine = await backend.open();
    reporter = createReporter(engine);
    taskId = `task-${randomUUID().slice(0, 8)}`;
    live = await watch(engine, taskChannel(engine.prefix, taskId));
  });
  afterEach(async () => {
    await closeEngines();
  });

  async function expectRefused(call: Promise<unknown>, field: string, problem: RegExp): Promise<ReporterInputError> {
    const error = await call.then(
      () => {
        throw new Error('expected the call to be refused');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReporterInputError);
    const inputError = error as ReporterInputError;
    expect(inputError).toMatchObject({ code: 'bad_request', field });
    expect(inputError.message).toMatch(problem);
    return inputError;
  }

  it.each(TASK_EVENT_CASES)('%s is refused naming %s, and nothing is written', async (_name, field, problem, call) => {
    const started = await reporter.notifyTaskStart(taskId, 'user-1', 'project-1');
    const before = await engine.latest(taskId);
    const error = await expectRefused(call(reporter, taskId), field, problem);
    expect(error.taskId).toBe(taskId);
    expect(await engine.latest(taskId)).toEqual(before);
    expect((await historyOf(engine, taskId)).map((frame) => frame.offset)).toEqual([1]);
    // The next valid event takes the next offset, and the subscriber saw only the two valid frames.
    const next = await reporter.updateProgress(taskId, 10, 'fine');
    expect(next.offset).toBe(2);
    await waitFor('the valid frame', () => live.length >= 2);
    expect(live).toEqual([started.frame, next.frame]);
  });

  it.each(TASK_EVENT_CASES)('%s on an unknown task creates no task', async (_name, field, problem, call) => {
    await expectRefused(call(reporter, taskId), field, problem);
    expect(await engine.latest(taskId)).toBeNull();
    expect(await engine.history(taskId, 10)).toBeNull();
  });

  it.each(ID_CASES)('%s is refused naming %s', async (_name, field, problem, call) => {
    const error = await expectRefused(call(reporter, taskId), field, problem);
    expect(error.cause).toBeInstanceOf(ProtocolError);
    expect(await engine.stats()).toMatchObject({ tasks: 0 });
  });

  it.each(BROADCAST_CASES)('broadcast with %s is refused naming %s, and nothing is sent', async (_name, field, problem, call) => {
    const toUser = await watch(engine, userChannel(engine.prefix, 'user-1'));
    const toProject = await watch(engine, projectChannel(engine.prefix, 'project-1'));
    await expectRefused(call(reporter, taskId), field, problem);
    await reporter.broadcastToUser('user-1', 'sentinel', { progress: 1 });
    await reporter.broadcastToProject('project-1', 'sentinel', { progress: 1 });
    await waitFor('the sentinels', () => toUser.length >= 1 && toProject.length >= 1);
    expect([...toUser, ...toProject].map((frame) => JSON.parse(frame.toString()).task_id)).toEqual(['sentinel', 'sentinel']);
  });
});
