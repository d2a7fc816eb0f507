// Small HTTP helpers shared by the route files.

import type { FastifyReply, FastifyRequest } from 'fastify';

/** Every response about one object carries its version as a strong ETag (RFC 9110 §8.8.3). */
export function withVersion<T extends { version: string }>(reply: FastifyReply, body: T): T {
  reply.header('ETag', `"${body.version}"`);
  return body;
}

/** The If-Match header, if the request has one. */
export function ifMatch(request: FastifyRequest): { if_match?: string } {
  const h = request.headers['if-match'];
  return typeof h === 'string' ? { if_match: h } : {};
}

/** Who made a change, as the journal records it. */
export const sourceOf = (request: FastifyRequest): string => `api:${request.tokenName}`;

export interface TargetParams {
  zone: string;
  pool: string;
  target: string;
}
export interface RRsetParams {
  zone: string;
  name: string;
  type: string;
}
