// What monitors and operators say about one target: weight, load report, health report, override.
// Each is a PUT to set it and a DELETE to clear it; each answers with the target as it now is.

import type { FastifyInstance } from 'fastify';
import { ifMatch, sourceOf, withVersion, type TargetParams } from './http.ts';
import { commitOps, type Op } from './ops.ts';
import { target } from './pools.ts';
import { bodies } from './schemas.ts';
import { doc } from './openapi.ts';
import type { ApiBackend } from './types.ts';

const ASPECTS = [
  {
    path: 'weight',
    set: 'set-weight',
    clear: 'clear-weight',
    body: bodies.weight,
    what: 'weight (0 stops answering it)',
  },
  { path: 'load', set: 'set-load', clear: 'clear-load', body: bodies.load, what: 'load report (least-load)' },
  { path: 'health', set: 'set-health', clear: 'clear-health', body: bodies.health, what: "monitor's health report" },
  {
    path: 'override',
    set: 'set-override',
    clear: 'clear-override',
    body: bodies.override,
    what: 'admin override (drain)',
  },
] as const;

export function targetRoutes(app: FastifyInstance, b: ApiBackend, now: () => number): void {
  for (const a of ASPECTS) {
    const url = `/v1/zones/:zone/pools/:pool/targets/:target/${a.path}`;
    const run = async (op: Op, p: TargetParams, source: string) =>
      (await commitOps(b, source, [op], () => target(b, p, now()))).view;

    app.put<{ Params: TargetParams; Body: Record<string, unknown> }>(
      url,
      { schema: { body: a.body, ...doc(`Set a target's ${a.what}`, 'targets', { 200: 'the target as it now is' }) } },
      async (req, reply) => {
        const op = { op: a.set, ...req.params, ...req.body, ...ifMatch(req) } as Op;
        return withVersion(reply, await run(op, req.params, sourceOf(req)));
      },
    );
    app.delete<{ Params: TargetParams }>(
      url,
      { schema: doc(`Clear a target's ${a.what}`, 'targets', { 200: 'the target as it now is' }) },
      async (req, reply) => {
        const op = { op: a.clear, ...req.params, ...ifMatch(req) } as Op;
        return withVersion(reply, await run(op, req.params, sourceOf(req)));
      },
    );
  }
}
