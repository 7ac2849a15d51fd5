/**
 * The guide's reads: `GET /api/v1/progress/:task_id` (the latest snapshot) and `.../history?limit=20`
 * (frames newest first). Both bodies are concatenated from stored JSON texts (the progress body by
 * protocol's progressBodyText): nothing is parsed or re-serialised on the way out (the response schemas
 * document the shapes; they never serialise a 200). A history body is kept and sent again while the
 * task's position has not moved (history-cache.ts).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { HistoryPage, TaskSnapshot } from '@taskpulse/engine';
import type { TaskOwner } from '@taskpulse/auth';
import { progressBodyText } from '@taskpulse/protocol';
import { taskNotFound } from '../error-handler';
import { HistoryCache } from '../history-cache';
import { assertMayRead, readerOf, type Reader } from '../plugins/auth-plugin';
import { errorResponses, historyQuery, historyResponse, progressResponse, taskParams } from '../schemas';

interface TaskParams {
  task_id: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const json = JSON.stringify;

/** The snapshot as the guide's progress response: laid out by protocol, with the same fallbacks as frames. */
export function progressBody(snapshot: TaskSnapshot): string {
  return progressBodyText(snapshot.taskId, snapshot.offset, snapshot.epoch, snapshot.fields);
}

const HISTORY_END = Buffer.from('}');

/** `{"task_id","epoch","offset","items":[frames…]}`: the page's items go in as they are, one copy. */
export function historyBody(taskId: string, page: HistoryPage): Buffer {
  const head = `{"task_id":${json(taskId)},"epoch":${json(page.epoch)},"offset":${page.offset},"items":`;
  return Buffer.concat([Buffer.from(head), page.items, HISTORY_END]);
}

/** The user and project a task was started for: the snapshot keeps them as JSON texts. */
export function ownerOf(snapshot: TaskSnapshot): NonNullable<TaskOwner> {
  const text = (value: string | undefined) => (value === undefined ? undefined : (JSON.parse(value) as unknown));
  const userId = text(snapshot.fields.user_id);
  const projectId = text(snapshot.fields.project_id);
  return {
    userId: typeof userId === 'string' ? userId : undefined,
    projectId: typeof projectId === 'string' ? projectId : undefined,
  };
}

/** Bytes of history bodies one API process keeps (about 640 full 100-frame pages of 250-byte frames). */
export const HISTORY_CACHE_BYTES = 16 * 1024 * 1024;

export const progressRoutes: FastifyPluginAsync = async (app) => {
  const historyCache = new HistoryCache(HISTORY_CACHE_BYTES);
  // Who reads is settled before validation: an anonymous caller gets 401, not a 400 about its input.
  const readers = new WeakMap<FastifyRequest, Reader>();
  const onRequest = async (request: FastifyRequest) => {
    readers.set(request, await readerOf(app, request));
  };
  const readerFor = (request: FastifyRequest): Reader => readers.get(request) ?? { kind: 'open' };

  app.get<{ Params: TaskParams }>(
    '/api/v1/progress/:task_id',
    { onRequest, schema: { params: taskParams, response: { 200: progressResponse, ...errorResponses } } },
    async (request, reply) => {
      const snapshot = await app.engine.snapshot(request.params.task_id);
      assertMayRead(app, readerFor(request), request.params.task_id, snapshot ? ownerOf(snapshot) : null);
      if (!snapshot) throw taskNotFound(request.params.task_id);
      return reply.type(JSON_TYPE).send(progressBody(snapshot));
    },
  );

  app.get<{ Params: TaskParams; Querystring: { limit: number } }>(
    '/api/v1/progress/:task_id/history',
    { onRequest, schema: { params: taskParams, querystring: historyQuery, response: { 200: historyResponse, ...errorResponses } } },
    async (request, reply) => {
      const { task_id: taskId } = request.params;
      const { limit } = request.query;
      const reader = readerFor(request);
      // The snapshot's position tells whether a cached body is still the answer (history-cache.ts).
      const snapshot = await app.engine.snapshot(taskId);
      if (reader.kind === 'token') assertMayRead(app, reader, taskId, snapshot ? ownerOf(snapshot) : null);
      if (!snapshot) throw taskNotFound(taskId);
      const cached = historyCache.get(taskId, limit, snapshot.epoch, snapshot.offset);
      if (cached) return reply.type(JSON_TYPE).send(cached);
      const page = await app.engine.history(taskId, limit);
      if (!page) throw taskNotFound(taskId);
      const body = historyBody(taskId, page);
      historyCache.set(taskId, limit, { epoch: page.epoch, offset: page.offset, body });
      return reply.type(JSON_TYPE).send(body);
    },
  );
};
