// The API's contract: /openapi.json is an OpenAPI 3.1 document a maintained validator accepts,
// generated from the routes themselves, so every route the API serves is in it with its
// parameters, its body schema and the error responses it can give, each in the one error shape
// with the codes of src/8-api/errors.ts; the errors real requests get match what it says. /docs is
// Swagger UI, every asset of it served by gslbd itself.

import { validate, compileErrors } from '@readme/openapi-parser';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/8-api/errors.ts';
import { apiRoutes } from '../../src/8-api/server.ts';
import { READ, startHarness, ZONE } from './helpers.ts';
import { forTests } from '../helpers/fixture.ts';

const h = forTests(
  () => startHarness(),
  (it) => it.stop(),
);

type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

async function document(): Promise<Document> {
  const r = await h.call('GET', '/openapi.json', { token: null });
  expect(r.status).toBe(200);
  return r.body as Document;
}

/** `/v1/zones/:zone` as the document writes it: `/v1/zones/{zone}`. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('/openapi.json', () => {
  it('is served without a token and is a valid OpenAPI 3.1 document', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('has every route the API serves, with its path parameters and body', async () => {
    const doc = await document();
    const routes = apiRoutes(h.app).filter((r) => !r.hidden && r.method !== 'HEAD');
    // The routes of every file: zones, pools, targets, batch, operations.
    expect(routes.length).toBeGreaterThanOrEqual(24);
    for (const r of routes) {
      const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url}`).toBeDefined();
      const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1]);
      expect(
        (op!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        `${r.method} ${r.url}`,
      ).toEqual(params);
      if (r.method === 'PUT' || (r.method === 'POST' && r.url !== '/v1/reload'))
        expect(op!.requestBody, `${r.method} ${r.url}`).toBeDefined();
    }
    // And nothing the API does not serve.
    const served = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
    for (const [p, ops] of Object.entries(doc.paths))
      for (const m of Object.keys(ops)) expect(served).toContain(`${m} ${p}`);
  });

  it("gives every route its error responses, in the one shape, with errors.ts's codes", async () => {
    const doc = await document();
    const seen = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const reads = [400, 401, 404, 408, 414, 429, 431, 500];
        const statuses = method === 'get' ? reads : [...reads, 403, 409, 413, 415, 503];
        for (const status of statuses) {
          const schema = op.responses[status]?.content?.['application/json']?.schema as
            { properties: { error: { properties: { code: { enum: string[] } } } } } | undefined;
          expect(schema, `${method} ${p} ${status}`).toBeDefined();
          const codes = schema!.properties.error.properties.code.enum;
          expect(codes.length).toBeGreaterThan(0);
          for (const c of codes) {
            expect(ERROR_CODES[c as keyof typeof ERROR_CODES], c).toBe(status);
            seen.add(c);
          }
        }
      }
    }
    // Every code a route can answer with is documented (405 has no route: unknown methods are 404).
    expect([...seen].sort()).toEqual(
      Object.keys(ERROR_CODES)
        .filter((c) => c !== 'ERR_METHOD')
        .sort(),
    );
  });

  it("the errors real requests get match the document's schema for their status", async () => {
    const doc = await document();
    const ajv = new Ajv({ strict: false });
    const check = (path: string, method: string, r: { status: number; body: unknown }) => {
      const schema = doc.paths[path]![method]!.responses[r.status]?.content?.['application/json']?.schema;
      expect(schema, `${method} ${path} ${r.status}`).toBeDefined();
      expect(ajv.validate(schema!, r.body), `${method} ${path} ${JSON.stringify(r.body)}`).toBe(true);
    };
    const targetPath = '/v1/zones/{zone}/pools/{pool}/targets/{target}/weight';
    const target = `/v1/zones/${ZONE}/pools/web/targets/192.0.2.10/weight`;
    check(targetPath, 'put', await h.call('PUT', target, { body: { weight: 5 }, token: null }));
    check(targetPath, 'put', await h.call('PUT', target, { body: { weight: 5 }, token: READ }));
    check(targetPath, 'put', await h.call('PUT', target, { body: { weight: 'x' } }));
    check(targetPath, 'put', await h.call('PUT', target, { body: '{"weight":', headers: {} }));
    check(targetPath, 'put', await h.call('PUT', target, { body: { weight: 5 }, headers: { 'if-match': '"old"' } }));
    check('/v1/zones/{zone}', 'get', await h.call('GET', '/v1/zones/nowhere.example.', { token: READ }));
    const rrset = '/v1/zones/{zone}/rrsets/{name}/{type}';
    check(
      rrset,
      'put',
      await h.call('PUT', `/v1/zones/${ZONE}/rrsets/alias/A`, { body: { ttl: 60, records: ['192.0.2.1'] } }),
    );
    check('/v1/batch', 'post', await h.call('POST', '/v1/batch', { body: { changes: [{ op: 'nope' }] } }));
    check('/explain', 'get', await h.call('GET', '/explain?bogus=1', { token: READ }));
  });
});

describe('/docs', () => {
  it('is Swagger UI whose scripts and styles all come from gslbd, and they are served', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.some((r) => r.includes('swagger-ui-bundle.js'))).toBe(true);
    for (const ref of refs) {
      expect(ref, 'no other host').not.toMatch(/^(https?:)?\/\//);
      const url = new URL(ref, 'http://gslbd/docs/').pathname;
      const asset = await h.app.inject({ method: 'GET', url });
      expect(asset.statusCode, url).toBe(200);
    }
    // The page's own initializer points Swagger UI at our document.
    const init = await h.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    const spec = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(JSON.parse(spec.body).openapi).toBe('3.1.0');
  });

  it('still needs a token for everything else', async () => {
    expect((await h.call('GET', '/v1/zones', { token: null })).status).toBe(401);
    expect((await h.call('GET', '/docsx', { token: null })).status).toBe(401);
  });
});
