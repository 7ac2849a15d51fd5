/**
 * The guide's reads: `GET /api/v1/progress/:task_id` (the latest snapshot) and `.../history?limit=20`
 * (frames newest first, sent as the stored bytes without parsing them).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { HistoryPage, TaskState } from '@taskpulse/engine';
import { taskNotFound } from '../error-handler';
import { errorResponses, historyQuery, historyResponse, progressResponse, taskParams } from '../schemas';

interface TaskParams {
  task_id: string;
}

/** The snapshot as the guide's progress response; fields each hold JSON text, absent ones take the frame defaults. */
export function progressView(state: TaskState): Record<string, unknown> {
  const f = state.fields;
  const read = (text: string | undefined, fallback: unknown): unknown => (text === undefined ? fallback : JSON.parse(text));
  const view: Record<string, unknown> = {
    task_id: state.taskId,
    progress: read(f.progress, 0),
    current_step: read(f.current_step, ''),
    total_steps: read(f.total_steps, 0),
    completed_steps: read(f.completed_steps, 0),
    message: read(f.message, ''),
    status: read(f.status, 'pending'),
    timestamp: read(f.timestamp, ''),
  };
  for (const name of ['result', 'error', 'user_id', 'project_id'] as const) {
    if (f[name] !== undefined) view[name] = read(f[name], undefined);
  }
  view.offset = state.offset;
  view.epoch = state.epoch;
  return view;
}

const COMMA = Buffer.from(',');

/** `{"task_id","epoch","offset","items":[frames…]}` built by concatenation: the frames are never parsed. */
export function historyBody(taskId: string, page: HistoryPage): Buffer {
  const head = `{"task_id":${JSON.stringify(taskId)},"epoch":${JSON.stringify(page.epoch)},"offset":${page.offset},"items":[`;
  const parts: Buffer[] = [Buffer.from(head)];
  page.frames.forEach((frame, index) => {
    if (index > 0) parts.push(COMMA);
    parts.push(frame);
  });
  parts.push(Buffer.from(']}'));
  return Buffer.concat(parts);
}

export const progressRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: TaskParams }>(
    '/api/v1/progress/:task_id',
    { schema: { params: taskParams, response: { 200: progressResponse, ...errorResponses } } },
    async (request) => {
      const state = await app.engine.latest(request.params.task_id);
      if (!state) throw taskNotFound(request.params.task_id);
      return progressView(state);
    },
  );

  app.get<{ Params: TaskParams; Querystring: { limit: number } }>(
    '/api/v1/progress/:task_id/history',
    { schema: { params: taskParams, querystring: historyQuery, response: { 200: historyResponse, ...errorResponses } } },
    async (request, reply) => {
      const { task_id: taskId } = request.params;
      const page = await app.engine.history(taskId, request.query.limit);
      if (!page) throw taskNotFound(taskId);
      return reply.type('application/json; charset=utf-8').send(historyBody(taskId, page));
    },
  );
};
