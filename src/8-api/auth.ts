// Bearer tokens. Only a SHA-256 of each token is kept in memory (the configuration loader hashes
// them as it reads them), so a heap dump or a logged config object reveals no token; requests are
// matched by hashing the token they present.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, sendError } from './errors.ts';
import { DOCS_PREFIX, OPENAPI_PATH } from './openapi.ts';
import { ASSETS } from './status-page.ts';
import { hashToken, type ApiToken } from '../7-config/api-options.ts';

/** Where the tokens are looked up, by SHA-256 (ApiAccess, whose tokens a reload replaces). */
export interface TokenLookup {
  token(hash: string): ApiToken | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's owner, set by the auth hook before any handler runs. */
    tokenName: string;
  }
}

/** Pages served without a token: the status page, the API's document and its UI hold no data. */
const PUBLIC = new Set(['/', '/index.html', OPENAPI_PATH, DOCS_PREFIX, ...ASSETS]);
const isPublic = (url: string) => PUBLIC.has(url) || url.startsWith(`${DOCS_PREFIX}/`);

/** GET and HEAD read; every other method writes. */
const READS = new Set(['GET', 'HEAD']);

/**
 * The onRequest hook: 401 without a known token, 403 for a read token on a write method. Runs
 * before the body is read, so an unauthenticated client cannot make us parse anything.
 */
export function authHook(tokens: TokenLookup) {
  // Looking up by hash: the lookup's timing depends on the hash of what the client sent, which
  // tells it nothing about the tokens we hold.
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    // The status page itself holds no data: it asks for a token and sends it with every call.
    if (request.method === 'GET' && isPublic(request.url)) return undefined;
    const header = request.headers.authorization;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = m ? tokens.token(hashToken(m[1]!)) : undefined;
    if (!token) {
      reply.header('WWW-Authenticate', 'Bearer realm="gslbd"');
      const why = header === undefined ? 'an Authorization: Bearer <token> header is required' : 'unknown token';
      return sendError(reply, new ApiError(401, 'ERR_UNAUTHORIZED', why));
    }
    if (token.access !== 'write' && !READS.has(request.method)) {
      return sendError(reply, new ApiError(403, 'ERR_FORBIDDEN', `token "${token.name}" may only read`));
    }
    request.tokenName = token.name;
    return undefined;
  };
}
