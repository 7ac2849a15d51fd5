/**
 * The API's OpenAPI document, generated from the route schemas by @fastify/swagger, served at
 * `/api/v1/openapi.json`, with Swagger UI at `/docs`. Registered before the routes (it collects them as
 * they are added). Route tags and the error answers' description are added here, from the URL, so the
 * route files carry only their schemas.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import { shared } from './skip-override';

/** Where the document is served. */
export const OPENAPI_PATH = '/api/v1/openapi.json';
/** Where Swagger UI is served. */
export const DOCS_PATH = '/docs';

const ERRORS =
  'Error: `{"error":{"code","message","field?"}}`. 400 `invalid_request` (field names the field), 401 `unauthorized`, ' +
  '403 `forbidden`, 404 `not_found`, 409 `task_finished`, 413 `payload_too_large`, 429 `rate_limited`, 503 `unavailable`.';

/** A tag per area, from the URL: what the docs page groups by. */
function tagOf(url: string): string {
  if (url.startsWith('/api/v1/demo')) return 'demo';
  if (url.endsWith('/stats')) return 'stats';
  if (url.startsWith('/api/v1/broadcast')) return 'broadcast';
  if (url.startsWith('/api/v1/')) return 'tasks';
  return 'operations';
}

export const openapiPlugin: FastifyPluginAsync<{ version?: string }> = shared(async (app, options) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'taskpulse API',
        version: options.version ?? '0.1.0',
        description:
          'Report task progress and read it back. Live progress is a WebSocket (`/api/v1/ws` on the gateways), not described here. ' +
          'In AUTH_MODE=jwt, writes need an `X-API-Key` with the publish scope, stats the admin scope, and reads a bearer token or a key with the read scope; ' +
          'in insecure mode everything is open. ' +
          ERRORS,
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
      tags: [
        { name: 'tasks', description: 'start, report, finish and read tasks' },
        { name: 'broadcast', description: 'progress to every connection of a user or a project' },
        { name: 'stats', description: 'tasks by status, connections by node' },
        { name: 'demo', description: 'the video_processing demo job' },
        { name: 'operations', description: 'probes and metrics' },
      ],
    },
    transform: ({ schema, url }) => {
      const response = schema?.response as Record<string, object> | undefined;
      const described =
        response &&
        Object.fromEntries(Object.entries(response).map(([status, body]) => [status, /^[45]xx$/.test(status) ? { ...body, description: ERRORS } : body]));
      return { schema: { ...schema, tags: [tagOf(url)], ...(described ? { response: described } : {}) }, url } as never;
    },
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: DOCS_PATH, uiConfig: { url: OPENAPI_PATH } as never });
});
