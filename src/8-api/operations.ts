// Operator endpoints: /metrics (Prometheus), /explain, /v1/status (what the status page and
// `gslbd status` show), /v1/reload. Each needs a read token, reload a write token.

import type { FastifyInstance } from 'fastify';
import { nameToText } from '../0-base/name.ts';
import type { ExplainRequest } from '../5-answer/explain.ts';
import { ExplainError } from '../5-answer/explain.ts';
import { ApiError, badField } from './errors.ts';
import type { ApiBackend } from './types.ts';
import { doc } from './openapi.ts';

export function operationRoutes(app: FastifyInstance, b: ApiBackend): void {
  const ops = b.operations;
  if (!ops) return;

  const metrics = {
    ...doc('Prometheus metrics', 'operations', {}),
    response: {
      200: { description: 'the metrics', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } },
    },
  };
  app.get('/metrics', { schema: metrics }, async (_req, reply) => {
    reply.header('Content-Type', ops.metrics.contentType);
    return ops.metrics.metrics();
  });

  const explain = {
    ...doc('Why a client gets its answer, without sending a query', 'operations', {
      200: 'the client, rcode, answer, ECS scope, and per pool every candidate and the choice',
    }),
    querystring: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'required' },
        type: { type: 'string', description: 'default A' },
        client: { type: 'string', description: 'a source address' },
        subnet: { type: 'string', description: 'an ECS subnet (not with client)' },
      },
    },
  };
  app.get<{ Querystring: Record<string, string> }>('/explain', { schema: explain }, async (req) => {
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

  app.get(
    '/v1/status',
    {
      schema: doc('Every zone, pool and target with its state, and the recent state changes', 'operations', {
        200: '{ zones, events }',
      }),
    },
    async () => ops.status(),
  );

  app.get(
    '/v1/cluster',
    { schema: doc('The cluster: every node, its applied seq and lag', 'operations', { 200: 'the cluster view' }) },
    async () => {
      const view = ops.cluster ? await ops.cluster() : null;
      if (view === null)
        throw new ApiError(404, 'ERR_NOT_FOUND', 'not a cluster node: gslbd.yaml has no cluster: section');
      return view;
    },
  );

  const history = ops.history;
  if (history)
    app.get(
      '/v1/history',
      {
        schema: doc(
          "The status page's charts: the last hour of queries/s per zone and rcode, each pool's share per target, each target's state and the signal that decided",
          'operations',
          {
            200: '{ step_s, times, queries, shares, states, share_1m, nodes (a cluster node: the nodes summed), truncated }',
          },
        ),
      },
      async () => history(),
    );

  app.post(
    '/v1/reload',
    {
      schema: doc('Reload zones, pools and gslbd.yaml (as SIGHUP)', 'operations', {
        200: '{ reloaded, zones, loaded, failed, config }',
      }),
    },
    async () => {
      const r = await ops.reload();
      return {
        reloaded: true,
        zones: b.zones.all().map((z) => ({ zone: nameToText(z.origin), serial: z.serial })),
        ...r,
      };
    },
  );
}
