/**
 * One place that turns every failure into `{"error":{"code","message","field?","reason?"}}` with the right status
 * (`reason`: why a token was refused, as the gateway says it):
 * schema errors and protocol/reporter input errors → 400 naming the field, TaskFinishedError → 409,
 * EngineUnavailableError → 503, anything unexpected → 500 (logged with the request, never leaked).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EngineError } from '@taskpulse/engine';
import { ProtocolError, type ErrorCode } from '@taskpulse/protocol';
import { ReporterInputError } from '@taskpulse/reporter';

/** An error the API raises itself (unknown task, engine not ready). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Machine-readable cause of a 401 (a token refusal reason such as `expired`), as the gateway sends it. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** The 404 for a task the engine does not know (never seen, or expired). */
export function taskNotFound(taskId: string): ApiError {
  return new ApiError(404, 'not_found', `task ${taskId} not found (never reported, or expired after 24 h)`);
}

/** HTTP status of each error code; a new code fails to compile until it is given one. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  unknown_action: 400,
  forbidden: 403,
  not_found: 404,
  task_finished: 409,
  too_many_subscriptions: 429,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  unauthorized: 401,
  frame_too_large: 413,
  too_many_connections: 429,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; reason?: string };
}

export interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Names the field an ajv issue is about and says what it expected, e.g. `progress must be <= 100`. */
export function describeSchemaIssue(issue: AjvIssue, part: string): { field: string; message: string } {
  const path = issue.instancePath.split('/').filter((p) => p !== '').join('.');
  const join = (name: unknown) => (path === '' ? String(name) : `${path}.${String(name)}`);
  if (issue.keyword === 'required') {
    const field = join(issue.params.missingProperty);
    return { field, message: `${field} is required` };
  }
  if (issue.keyword === 'additionalProperties') {
    const field = join(issue.params.additionalProperty);
    return { field, message: `${field} is not a known field of the ${part}` };
  }
  const field = path === '' ? part : path;
  if (issue.keyword === 'pattern') {
    return { field, message: `${field} may contain only letters, digits and _ . : @ - (1-128 characters)` };
  }
  return { field, message: `${field} ${issue.message ?? 'is invalid'}` };
}

/** Maps any thrown value to a status and the API's error body. */
export function toErrorReply(error: unknown): { status: number; body: ErrorBody } {
  const reply = (status: number, code: ErrorCode, message: string, field?: string, reason?: string) => ({
    status,
    body: {
      error: { code, message, ...(field === undefined ? {} : { field }), ...(reason === undefined ? {} : { reason }) },
    },
  });
  if (error instanceof ApiError) return reply(error.statusCode, error.code, error.message, error.field, error.reason);
  if (error instanceof ReporterInputError) return reply(400, error.code, error.problem, error.field);
  if (error instanceof ProtocolError) return reply(STATUS_BY_CODE[error.code], error.code, error.message, error.field);
  if (error instanceof EngineError) return reply(STATUS_BY_CODE[error.code], error.code, error.message);
  const fastifyError = error as Partial<FastifyError> & { validation?: AjvIssue[] };
  if (Array.isArray(fastifyError.validation) && fastifyError.validation.length > 0) {
    const part = fastifyError.validationContext ?? 'body';
    const { field, message } = describeSchemaIssue(fastifyError.validation[0]!, part);
    return reply(400, 'bad_request', message, field);
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own refusals: unparsable JSON, a body over the limit, an unsupported content type.
    const field = fastifyError.code?.startsWith('FST_ERR_CTP') ? 'body' : undefined;
    return reply(status, 'bad_request', fastifyError.message ?? 'bad request', field);
  }
  return reply(500, 'internal', 'an unexpected server error');
}

/** Installs the error and not-found handlers; `onError` counts each answered error by code. */
export function registerErrorHandling(app: FastifyInstance, onError: (code: ErrorCode) => void = () => {}): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorReply(error);
    onError(body.error.code);
    if (status >= 500) {
      request.log.error({ err: error, route: request.routeOptions.url, method: request.method }, 'request failed');
    }
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    onError('not_found');
    return reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
