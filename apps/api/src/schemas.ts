/**
 * JSON schemas of every route: what the API accepts (bodies are checked strictly, without coercion or
 * unknown fields) and what it answers. Limits come from packages/protocol so both checks agree.
 */
import { ID_PATTERN, LIMITS, MAX_ID_LENGTH, TASK_STATUSES } from '@taskpulse/protocol';
import { DEMO_MAX_STEP_MS } from './demo-jobs';

const id = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_PATTERN.source } as const;
const percent = { type: 'number', minimum: 0, maximum: 100 } as const;
const count = { type: 'integer', minimum: 0, maximum: LIMITS.maxSteps } as const;
const message = { type: 'string', maxLength: LIMITS.messageChars } as const;
const stepName = { type: 'string', maxLength: LIMITS.stepNameChars } as const;

function params(name: string) {
  return { type: 'object', required: [name], properties: { [name]: id } } as const;
}

export const taskParams = params('task_id');
export const userParams = params('user_id');
export const projectParams = params('project_id');

export const historyQuery = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: LIMITS.historyEntries, default: 20 } },
} as const;

function body(properties: Record<string, object>, required: string[] = []) {
  return { type: 'object', required, properties, additionalProperties: false } as const;
}

export const startBody = body({ user_id: id, project_id: id });
export const progressBody = body(
  { progress: percent, message, current_step: stepName, completed_steps: count, total_steps: count },
  ['progress'],
);
export const completeBody = body({ result: {} });
export const failBody = body({ error: { type: 'string', minLength: 1, maxLength: LIMITS.errorChars } }, ['error']);
export const cancelBody = body({ reason: { type: 'string', maxLength: LIMITS.errorChars } });
export const broadcastBody = body(
  { task_id: id, progress: percent, message, current_step: stepName, completed_steps: count, total_steps: count },
  ['task_id', 'progress'],
);
/** DemoJobInput without the task id, which the API chooses. */
export const demoJobBody = body({
  user_id: id,
  project_id: id,
  fail_at_step: { type: 'integer', minimum: 1, maximum: 4 },
  step_ms: { type: 'integer', minimum: 0, maximum: DEMO_MAX_STEP_MS },
});

export const errorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, reason: { type: 'string' } },
    },
  },
} as const;

/** Every route's error answers share one shape. */
export const errorResponses = { '4xx': errorResponse, '5xx': errorResponse } as const;

export const publishedResponse = {
  type: 'object',
  required: ['task_id', 'offset', 'epoch'],
  properties: { task_id: { type: 'string' }, offset: { type: 'integer' }, epoch: { type: 'string' } },
} as const;

export const deliveredResponse = {
  type: 'object',
  required: ['delivered'],
  properties: { delivered: { type: 'integer' } },
} as const;

export const demoJobResponse = { type: 'object', required: ['task_id'], properties: { task_id: { type: 'string' } } } as const;

/**
 * The guide's progress response plus what the snapshot knows (result, error, owner) and the stream position.
 * Documents the body; progress-routes.ts concatenates it from the stored JSON texts in this field order, so
 * this schema never serialises it.
 */
export const progressResponse = {
  type: 'object',
  properties: {
    task_id: { type: 'string' },
    progress: { type: 'number' },
    current_step: { type: 'string' },
    total_steps: { type: 'integer' },
    completed_steps: { type: 'integer' },
    message: { type: 'string' },
    status: { type: 'string', enum: [...TASK_STATUSES] },
    timestamp: { type: 'string' },
    result: {},
    error: { type: 'string' },
    user_id: { type: 'string' },
    project_id: { type: 'string' },
    offset: { type: 'integer' },
    epoch: { type: 'string' },
  },
} as const;

/** Documents the history body; it is sent as prebuilt bytes (the engine's items), so this schema never serialises it. */
export const historyResponse = {
  type: 'object',
  properties: {
    task_id: { type: 'string' },
    epoch: { type: 'string' },
    offset: { type: 'integer' },
    items: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

export const taskStatsResponse = {
  type: 'object',
  properties: {
    tasks: { type: 'integer' },
    by_status: { type: 'object', properties: Object.fromEntries(TASK_STATUSES.map((s) => [s, { type: 'integer' }])) },
  },
} as const;

export const connectionStatsResponse = {
  type: 'object',
  properties: { total_clients: { type: 'integer' }, by_user: counts, by_project: counts, nodes: { type: 'integer' } },
} as const;

export const healthResponse = { type: 'object', properties: { status: { type: 'string' } } } as const;

/** Most events one `POST /api/v1/events` may carry. */
export const MAX_BATCH_EVENTS = 1000;
/** Largest body of `POST /api/v1/events` (the other routes keep the app's smaller limit). */
export const BATCH_BODY_LIMIT = 1024 * 1024;

function eventOf(type: string, properties: Record<string, object>, required: string[] = []) {
  return body({ type: { const: type }, task_id: id, ...properties }, ['type', 'task_id', ...required]);
}

/** One event of a batch: the single routes' bodies with `type` and `task_id` added. */
export const batchEventItem = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    eventOf('start', startBody.properties),
    eventOf('progress', progressBody.properties, ['progress']),
    eventOf('complete', completeBody.properties),
    eventOf('fail', failBody.properties, ['error']),
    eventOf('cancel', cancelBody.properties),
  ],
} as const;

/** Each item is checked on its own by the route (a bad one does not refuse the others). */
export const batchEventsBody = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH_EVENTS, items: batchEventItem } },
} as const;

/** The answer to one event of a batch: its HTTP-like status and where it landed, or its error. */
export const batchResultItem = {
  type: 'object',
  required: ['status'],
  properties: {
    task_id: { type: 'string' },
    status: { type: 'integer' },
    offset: { type: 'integer' },
    epoch: { type: 'string' },
    error: errorResponse.properties.error,
  },
} as const;

export const batchResponse = {
  type: 'object',
  required: ['published', 'failed', 'results'],
  properties: {
    published: { type: 'integer' },
    failed: { type: 'integer' },
    results: { type: 'array', items: batchResultItem },
  },
} as const;
