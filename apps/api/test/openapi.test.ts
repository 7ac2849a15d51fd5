/**
 * The OpenAPI document and the docs page: every route the route files declare is in
 * `/api/v1/openapi.json` with its method, success body and error answers, and `/docs` shows it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build } from '../src/build';
import { DOCS_PATH, OPENAPI_PATH } from '../src/plugins/openapi-plugin';

const routesDir = new URL('../src/routes/', import.meta.url).pathname;

/** `[method, url]` of every route the route files register with a literal URL. */
function declaredRoutes(): Array<[string, string]> {
  const routes: Array<[string, string]> = [];
  for (const file of readdirSync(routesDir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(`${routesDir}${file}`, 'utf8');
    for (const match of source.matchAll(/\.(get|post|put|patch|delete)(?:<[^(]*?>)?\(\s*'([^']+)'/g)) routes.push([match[1]!, match[2]!]);
  }
  return routes;
}

const openapiPath = (url: string) => url.replace(/:([a-z_]+)/g, '{$1}');

let app: FastifyInstance;
let spec: any;

beforeAll(async () => {
  app = await build();
  const response = await app.inject({ url: OPENAPI_PATH });
  expect(response.statusCode).toBe(200);
  spec = response.json();
});

afterAll(async () => {
  await app.close();
});

describe('OpenAPI', () => {
  it('is an OpenAPI 3.1 document of the taskpulse API', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info.title).toBe('taskpulse API');
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
  });

  it('has every declared route with its method, and every /api/v1 route with its success body and error answers', () => {
    const routes = declaredRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(15);
    for (const [method, url] of routes) {
      expect(app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${url} is a route`).toBe(true);
      const operation = spec.paths[openapiPath(url)]?.[method];
      expect(operation, `${method} ${url} in the document`).toBeDefined();
      expect(operation.tags).toHaveLength(1);
      if (!url.startsWith('/api/v1/')) continue;
      const success = Object.keys(operation.responses).find((status) => /^2\d\d$/.test(status));
      expect(success, `${method} ${url} success answer`).toBeDefined();
      expect(operation.responses[success!].content['application/json'].schema.type).toBe('object');
      for (const status of ['4XX', '5XX']) {
        const error = operation.responses[status];
        expect(error, `${method} ${url} ${status}`).toBeDefined();
        expect(error.description).toContain('409 `task_finished`');
        expect(error.content['application/json'].schema.required).toEqual(['error']);
      }
      for (const param of url.match(/:([a-z_]+)/g) ?? []) {
        const documented = operation.parameters.find((p: any) => p.in === 'path' && p.name === param.slice(1));
        expect(documented?.schema.pattern, `${method} ${url} ${param}`).toBeTypeOf('string');
      }
    }
  });

  it('documents request bodies strictly, as the API checks them', () => {
    const progress = spec.paths['/api/v1/progress/{task_id}'].post.requestBody.content['application/json'].schema;
    expect(progress.required).toEqual(['progress']);
    expect(progress.additionalProperties).toBe(false);
    expect(progress.properties.progress).toMatchObject({ type: 'number', minimum: 0, maximum: 100 });
    const history = spec.paths['/api/v1/progress/{task_id}/history'].get.parameters.find((p: any) => p.name === 'limit');
    expect(history).toMatchObject({ in: 'query', schema: { type: 'integer', minimum: 1, default: 20 } });
  });

  it('serves Swagger UI at /docs reading the document, with no engine needed', async () => {
    const page = await app.inject({ url: `${DOCS_PATH}/` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Swagger UI');
    const initializer = await app.inject({ url: `${DOCS_PATH}/static/swagger-initializer.js` });
    expect(initializer.body).toContain(`"url":"${OPENAPI_PATH}"`);
    expect(spec.paths[OPENAPI_PATH]).toBeUndefined();
  });
});
