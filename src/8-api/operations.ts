// Operator endpoints: /metrics (Prometheus), /explain, /v1/status (what the status page and
// `gslbd status` show), /v1/reload. Each needs a read token, reload a write token.

import type { FastifyInstance } from 'fastify';
import { nameToText } from '../0-base/name.ts';
import type { ExplainRequest } from '../5-answer/explain.ts';
import { ExplainError } from '../5-answer/explain.ts';
import { ApiError, badField } from './errors.ts';
import type { ApiBackend } from './types.ts';

export function operationRoutes(app: FastifyInstance, b: ApiBackend): void {
  const ops = b.operations;
  if (!ops) return;

  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', ops.metrics.contentType);
    return ops.metrics.metrics();
  });

  app.get<{ Querystring: Record<string, string> }>('/explain', async (req) => {
    const q = req.query;
    for (const k of Object.keys(q))
      if (!['name', 'type', 'client', 'subnet'].includes(k))
        throw badField(k, 'unknown parameter (name, type, client, subnet)');
    if (!q.name) throw badField('name', 'required');
    if (q.client && q.subnet) throw badField('subnet', 'give client or subnet, not both');
    const r: ExplainRequest = {
      name: q.name,
      ...(q.type && { type: q.type }),
      ...(q.client && { client: q.client }),
      ...(q.subnet && { subnet: q.subnet }),
    };
    try {
      return ops.explain(r);
    } catch (e) {
      if (e instanceof ExplainError) throw badField(e.field, e.message);
      throw e;
    }
  });

  app.get('/v1/status', async () => ops.status());

  app.get('/v1/cluster', async () => {
    const view = ops.cluster ? await ops.cluster() : null;
    if (view === null)
      throw new ApiError(404, 'ERR_NOT_FOUND', 'not a cluster node: gslbd.yaml has no cluster: section');
    return view;
  });

  app.post('/v1/reload', async () => {
    const r = await ops.reload();
    return {
      reloaded: true,
      zones: b.zones.all().map((z) => ({ zone: nameToText(z.origin), serial: z.serial })),
      ...r,
    };
  });
}
