// Zones and their static RRsets: read a zone whole, read / create or replace / delete one RRset.

import type { FastifyInstance } from 'fastify';
import { Type, typeFromName } from '../0-base/constants.ts';
import { notFound } from './errors.ts';
import { ifMatch, sourceOf, withVersion, type RRsetParams } from './http.ts';
import { commitOps } from './ops.ts';
import { bodies } from './schemas.ts';
import { doc } from './openapi.ts';
import type { ApiBackend } from './types.ts';
import { findZone, nameIn, rrsetView, zoneSummary, zoneView } from './views.ts';

const RRSET = '/v1/zones/:zone/rrsets/:name/:type';

export function zoneRoutes(app: FastifyInstance, b: ApiBackend): void {
  app.get(
    '/v1/zones',
    { schema: doc('The zones served', 'zones', { 200: '{ zones: [{ zone, serial, version }] }' }) },
    async () => ({ zones: b.zones.all().map(zoneSummary) }),
  );

  app.get<{ Params: { zone: string } }>(
    '/v1/zones/:zone',
    { schema: doc('A zone whole: its RRsets and pools', 'zones', { 200: 'the zone, with its version as ETag' }) },
    async (req, reply) => withVersion(reply, zoneView(findZone(b, req.params.zone))),
  );

  const lookup = (p: RRsetParams) => {
    const zone = findZone(b, p.zone);
    return { zone, rrset: zone.nodes.get(nameIn(zone, p.name, 'name'))?.rrsets.get(typeFromName(p.type) ?? Type.ANY) };
  };
  /** The RRset in service now, with its zone's serial. */
  const current = (p: RRsetParams) => {
    const { zone, rrset } = lookup(p);
    if (!rrset) throw notFound('name', `zone ${p.zone} has no RRset ${p.name} ${p.type}`);
    return { ...rrsetView(rrset), serial: zone.serial };
  };

  app.get<{ Params: RRsetParams }>(
    RRSET,
    { schema: doc('One RRset', 'zones', { 200: '{ name, type, ttl, records, version, serial }' }) },
    async (req, reply) => withVersion(reply, current(req.params)),
  );

  app.put<{ Params: RRsetParams; Body: { ttl: number; records: string[] } }>(
    RRSET,
    {
      schema: {
        body: bodies.rrset,
        ...doc('Create or replace an RRset (If-Match, If-None-Match: *)', 'zones', {
          200: 'replaced: the RRset as applied',
          201: 'created: the RRset as applied',
        }),
      },
    },
    async (req, reply) => {
      const p = req.params;
      const existed = lookup(p).rrset !== undefined;
      const op = {
        op: 'put-rrset' as const,
        ...p,
        ...req.body,
        ...ifMatch(req),
        if_none_match: req.headers['if-none-match'] === '*',
      };
      const { view } = await commitOps(b, sourceOf(req), [op], () => current(p));
      reply.code(existed ? 200 : 201);
      return withVersion(reply, view);
    },
  );

  app.delete<{ Params: RRsetParams }>(
    RRSET,
    { schema: doc('Delete an RRset (If-Match)', 'zones', { 200: 'the zone summary after the deletion' }) },
    async (req, reply) => {
      const p = req.params;
      const { view } = await commitOps(b, sourceOf(req), [{ op: 'delete-rrset', ...p, ...ifMatch(req) }], () =>
        zoneSummary(findZone(b, p.zone)),
      );
      return withVersion(reply, view);
    },
  );
}
