// Many changes as one transaction: every change is checked first (against the data in service and
// the changes before it in the list), and only if all pass are they committed as one changeset.
// The first failing change is reported, as `changes[i].field`, and nothing is applied.

import type { FastifyInstance } from 'fastify';
import { keyFromText, nameToText } from '../0-base/name.ts';
import { sourceOf } from './http.ts';
import { commitOps, type Op } from './ops.ts';
import { batchBody } from './schemas.ts';
import { doc } from './openapi.ts';
import type { ApiBackend } from './types.ts';

export function batchRoutes(app: FastifyInstance, b: ApiBackend): void {
  const schema = {
    body: batchBody,
    ...doc('Many changes as one transaction: all applied, or none', 'batch', {
      200: '{ applied, changes, seq, zones: [{ zone, serial }] }',
    }),
  };
  app.post<{ Body: { changes: Op[] } }>('/v1/batch', { schema }, async (req) => {
    const ops = req.body.changes;
    const serials = () => {
      // Every zone a change named (each has been found by now: a missing one fails the batch).
      const origins = new Set(ops.map((op) => keyFromText(op.zone.endsWith('.') ? op.zone : `${op.zone}.`)));
      return [...origins].map((o) => ({ zone: nameToText(o), serial: b.zones.get(o)?.serial }));
    };
    const { view, seq, changes } = await commitOps(b, sourceOf(req), ops, serials, true);
    return { applied: ops.length, changes, seq, zones: view };
  });
}
