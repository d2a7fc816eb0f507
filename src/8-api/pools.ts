// Pools and their members: read pools and targets with their live state; add and remove targets.

import type { FastifyInstance } from 'fastify';
import { nameToText } from '../0-base/name.ts';
import { notFound } from './errors.ts';
import { ifMatch, sourceOf, withVersion, type TargetParams } from './http.ts';
import { commitOps, type TargetBody } from './ops.ts';
import { bodies } from './schemas.ts';
import { doc } from './openapi.ts';
import type { ApiBackend } from './types.ts';
import { findPool, findZone, parseAddress, poolSummary, poolView, targetView } from './views.ts';

type PoolParams = { zone: string; pool: string };

export function poolRoutes(app: FastifyInstance, b: ApiBackend, now: () => number): void {
  app.get<{ Params: { zone: string } }>(
    '/v1/zones/:zone/pools',
    { schema: doc("A zone's pools", 'pools', { 200: '{ zone, pools: [{ pool, policy, ttl, targets, version }] }' }) },
    async (req) => {
      const zone = findZone(b, req.params.zone);
      return { zone: nameToText(zone.origin), pools: [...(zone.pools?.values() ?? [])].map(poolSummary) };
    },
  );

  const pool = (p: PoolParams) => {
    const zone = findZone(b, p.zone);
    return { zone, pool: findPool(zone, p.pool) };
  };

  app.get<{ Params: PoolParams }>(
    '/v1/zones/:zone/pools/:pool',
    {
      schema: doc('A pool with its targets and their live state', 'pools', {
        200: 'the pool, with its version as ETag',
      }),
    },
    async (req, reply) => {
      const { zone, pool: found } = pool(req.params);
      return withVersion(reply, poolView(b, zone, found, now()));
    },
  );

  app.get<{ Params: TargetParams }>(
    '/v1/zones/:zone/pools/:pool/targets/:target',
    {
      schema: doc('One target and its live state', 'targets', {
        200: 'the target: state, because, reason, weight, load, override, version',
      }),
    },
    async (req, reply) => withVersion(reply, target(b, req.params, now())),
  );

  app.post<{ Params: PoolParams; Body: TargetBody }>(
    '/v1/zones/:zone/pools/:pool/targets',
    {
      schema: {
        body: bodies.target,
        ...doc('Add a target to a pool (If-Match)', 'pools', { 201: 'the target added; Location names it' }),
      },
    },
    async (req, reply) => {
      const p = req.params;
      const op = { op: 'add-target' as const, ...p, ...req.body, ...ifMatch(req) };
      const { view } = await commitOps(b, sourceOf(req), [op], () =>
        target(b, { ...p, target: req.body.address }, now()),
      );
      reply
        .code(201)
        .header(
          'Location',
          `/v1/zones/${encodeURIComponent(p.zone)}/pools/${encodeURIComponent(p.pool)}/targets/${encodeURIComponent(view.address)}`,
        );
      return withVersion(reply, view);
    },
  );

  app.delete<{ Params: TargetParams }>(
    '/v1/zones/:zone/pools/:pool/targets/:target',
    { schema: doc('Remove a target from its pool (If-Match)', 'pools', { 200: 'the pool summary after the removal' }) },
    async (req, reply) => {
      const { view } = await commitOps(
        b,
        sourceOf(req),
        [{ op: 'remove-target', ...req.params, ...ifMatch(req) }],
        () => poolSummary(pool(req.params).pool),
      );
      return withVersion(reply, view);
    },
  );
}

/** One target of a pool in service, with its live state. */
export function target(b: ApiBackend, p: TargetParams, at: number) {
  const zone = findZone(b, p.zone);
  const pool = findPool(zone, p.pool);
  const address = parseAddress(p.target, 'target');
  const def = pool.def.targets.find((t) => t.address === address);
  if (!def) throw notFound('target', `${address} is not a target of pool ${nameToText(pool.def.name)}`);
  return targetView(b, pool, def, at);
}
