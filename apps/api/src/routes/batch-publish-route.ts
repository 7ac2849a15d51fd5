/**
 * `POST /api/v1/events`: many task events of many tasks in one body, published in one engine round trip
 * (reporter.publishBatch → engine.publishBatch: one Redis pipeline). The body's envelope is checked as a
 * whole (400: not an object, no `events`, more than MAX_BATCH_EVENTS; 413: over BATCH_BODY_LIMIT); each
 * event is then checked and answered on its own, in order: `{task_id, status: 200|201, offset, epoch}` or
 * `{task_id, status: 4xx|5xx, error: {code, message, field?}}`. A bad event never refuses the others.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyPluginAsync } from 'fastify';
import type { TaskEvent } from '@taskpulse/protocol';
import type { ReportBatchResult } from '@taskpulse/reporter';
import { describeSchemaIssue, toErrorReply, type AjvIssue, type ErrorBody } from '../error-handler';
import { BATCH_BODY_LIMIT, batchEventItem, batchEventsBody, batchResponse, errorResponses } from '../schemas';

type EventType = 'start' | 'progress' | 'complete' | 'fail' | 'cancel';

/** One event of the body, as the item schema admits it. */
interface BatchEventBody {
  type: EventType;
  task_id: string;
  user_id?: string;
  project_id?: string;
  progress?: number;
  message?: string;
  current_step?: string;
  completed_steps?: number;
  total_steps?: number;
  result?: unknown;
  error?: string;
  reason?: string;
}

interface BatchResult {
  task_id?: string;
  status: number;
  offset?: number;
  epoch?: string;
  error?: ErrorBody['error'];
}

const EVENT_TYPES = 'start, progress, complete, fail or cancel';

/** The envelope alone: items are anything here and checked one by one with the full item schema. */
const envelopeSchema = {
  ...batchEventsBody,
  properties: { events: { ...batchEventsBody.properties.events, items: {} } },
};

const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, discriminator: true });
const validateEnvelope = ajv.compile(envelopeSchema);
const validateItem: ValidateFunction = ajv.compile(batchEventItem);

/** The first problem of an invalid item, named as the single routes name it. */
function itemProblem(errors: AjvIssue[]): { field: string; message: string } {
  const issue = errors[0]!;
  if (issue.keyword === 'discriminator' || (issue.instancePath === '/type' && issue.keyword === 'const')) {
    return { field: 'type', message: `type must be ${EVENT_TYPES}` };
  }
  return describeSchemaIssue(issue, 'event');
}

function toTaskEvent(item: BatchEventBody, timestamp: string): TaskEvent {
  const taskId = item.task_id;
  switch (item.type) {
    case 'start':
      return { kind: 'start', taskId, userId: item.user_id, projectId: item.project_id, timestamp };
    case 'progress':
      return {
        kind: 'progress',
        taskId,
        progress: item.progress!,
        message: item.message,
        currentStep: item.current_step,
        completedSteps: item.completed_steps,
        totalSteps: item.total_steps,
        timestamp,
      };
    case 'complete':
      return { kind: 'complete', taskId, result: item.result, timestamp };
    case 'fail':
      return { kind: 'fail', taskId, error: item.error!, timestamp };
    case 'cancel':
      return { kind: 'cancel', taskId, reason: item.reason, timestamp };
  }
}

function answered(taskId: string, type: EventType, result: ReportBatchResult): BatchResult {
  if (result.status === 'published') {
    return { task_id: taskId, status: type === 'start' ? 201 : 200, offset: result.offset, epoch: result.epoch };
  }
  // Only a dedupe key makes a publish a duplicate, and this route never passes one.
  const error = result.status === 'error' ? result.error : new Error(`publish of ${taskId} reported a duplicate without a dedupe key`);
  const { status, body } = toErrorReply(error);
  return { task_id: taskId, status, error: body.error };
}

export const batchPublishRoute: FastifyPluginAsync = async (app) => {
  app.post<{ Body: { events: unknown[] } }>(
    '/api/v1/events',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      schema: { body: batchEventsBody, response: { 200: batchResponse, ...errorResponses } },
      // The documented schema is the full one; validation takes the envelope here and each item below.
      validatorCompiler: ({ httpPart }) => {
        if (httpPart !== 'body') throw new Error(`POST /api/v1/events has no ${httpPart} schema`);
        return validateEnvelope;
      },
    },
    async (request) => {
      const timestamp = new Date().toISOString();
      const results: BatchResult[] = [];
      const valid: Array<{ index: number; item: BatchEventBody }> = [];
      request.body.events.forEach((raw, index) => {
        if (validateItem(raw)) {
          valid.push({ index, item: raw as BatchEventBody });
          results.push({ status: 0 });
          return;
        }
        const { field, message } = itemProblem(validateItem.errors as AjvIssue[]);
        const taskId = (raw as { task_id?: unknown }).task_id;
        results.push({
          ...(typeof taskId === 'string' ? { task_id: taskId } : {}),
          status: 400,
          error: { code: 'bad_request', message, field },
        });
      });
      const reported = await app.reporter.publishBatch(
        valid.map(({ item }) => ({ event: toTaskEvent(item, timestamp) })),
        { method: 'POST /api/v1/events' },
      );
      reported.forEach((result, k) => {
        const { index, item } = valid[k]!;
        results[index] = answered(item.task_id, item.type, result);
      });
      let failed = 0;
      for (const result of results) {
        if (result.error) {
          failed += 1;
          app.apiMetrics.errors.labels(result.error.code).inc();
        }
      }
      return { published: results.length - failed, failed, results };
    },
  );
};
