// API errors: one JSON shape for every failure, `{ error: { code, message, field? } }`, with stable
// codes. Handlers throw ApiError; fastify's own errors (schema, body size, media type, JSON syntax)
// are translated here, so no response ever carries fastify's default error body.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../0-base/log.ts';

/** Every error code and the HTTP status it is sent with (the OpenAPI document lists them per status). */
export const ERROR_CODES = {
  ERR_VALIDATION: 400, // a field is missing, unknown, of the wrong type or out of range
  ERR_BAD_JSON: 400, // the body is not JSON
  ERR_BAD_REQUEST: 400, // not HTTP we can read, or a path that does not decode (bad %-escapes)
  ERR_UNAUTHORIZED: 401, // no token, or a token we do not know
  ERR_FORBIDDEN: 403, // a read token on a write endpoint
  ERR_NOT_FOUND: 404, // no such zone, pool, target, RRset or endpoint
  ERR_METHOD: 405,
  ERR_TIMEOUT: 408, // the request did not arrive in time
  ERR_CONFLICT: 409, // valid input the zone data does not allow (CNAME exclusivity, ...)
  ERR_VERSION: 409, // If-Match names a version that is no longer current
  ERR_TOO_LARGE: 413,
  ERR_URI_TOO_LONG: 414, // a path parameter longer than any domain name can be written
  ERR_MEDIA_TYPE: 415,
  ERR_TOO_MANY_REQUESTS: 429, // this client has api.max-in-flight-per-client requests in flight already
  ERR_HEADERS_TOO_LARGE: 431, // request line and headers over Node's limit (16 KiB), a long URL included
  ERR_INTERNAL: 500, // a bug
  ERR_NOT_DURABLE: 503, // the change could not be made durable (disk full, I/O error): it was not made
  ERR_CLUSTER_UNAVAILABLE: 503, // the cluster store (etcd) could not be reached: the change was not made
} as const;

export type ApiErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  /** The request field at fault, as a path into the body or the URL parameter's name. */
  readonly field: string | undefined;

  constructor(status: number, code: ApiErrorCode, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /** The same error inside a batch: the field under `at` (e.g. `changes[3]`), the message naming it. */
  under(at: string): ApiError {
    const field = this.field === undefined ? at : `${at}.${this.field}`;
    const own = this.field !== undefined && this.message.startsWith(`${this.field}: `);
    const message = own ? `${field}: ${this.message.slice(this.field!.length + 2)}` : `${at}: ${this.message}`;
    return new ApiError(this.status, this.code, message, field);
  }
}

export const badField = (field: string, reason: string) =>
  new ApiError(400, 'ERR_VALIDATION', `${field}: ${reason}`, field);
export const notFound = (field: string | undefined, message: string) =>
  new ApiError(404, 'ERR_NOT_FOUND', message, field);
export const conflict = (field: string | undefined, message: string) =>
  new ApiError(409, 'ERR_CONFLICT', message, field);

interface AjvError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
}

/** `/changes/3/weight` → `changes[3].weight`. */
function fieldOf(e: AjvError): string {
  let path = '';
  for (const part of e.instancePath.split('/').slice(1)) {
    const p = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(p) ? `[${p}]` : path ? `.${p}` : p;
  }
  const child =
    e.params.missingProperty ??
    e.params.additionalProperty ??
    (e.keyword === 'discriminator' ? e.params.tag : undefined);
  if (typeof child === 'string') path += path ? `.${child}` : child;
  return path;
}

function schemaError(e: AjvError, context: string): ApiError {
  const field = fieldOf(e);
  let reason = e.message ?? 'is not valid';
  if (e.keyword === 'additionalProperties') reason = 'unknown field';
  else if (e.keyword === 'required') reason = 'is required';
  else if (e.keyword === 'discriminator') reason = 'must name a known operation (see the API README)';
  else if (e.keyword === 'enum') reason = `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  else if (e.keyword === 'const') reason = `must be ${String(e.params.allowedValue)}`;
  if (!field) return new ApiError(400, 'ERR_VALIDATION', `${context}: ${reason}`);
  return badField(field, reason);
}

/** Fastify's error for a request it rejected, as an ApiError. */
export function toApiError(err: FastifyError | ApiError | Error): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation?.length) return schemaError(fe.validation[0]!, fe.validationContext ?? 'body');
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'ERR_TOO_LARGE', fe.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'ERR_MEDIA_TYPE', 'the body must be JSON (Content-Type: application/json)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'ERR_BAD_JSON', 'Content-Type is application/json but the body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'ERR_BAD_JSON', `the body is not valid JSON: ${fe.message}`);
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'ERR_BAD_REQUEST', 'the path does not decode (a bad %-escape)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(
        414,
        'ERR_URI_TOO_LONG',
        `a path parameter is longer than ${MAX_PARAM_LENGTH} characters, more than any domain name needs`,
      );
  }
  if (fe.statusCode === 400 || err instanceof SyntaxError) return new ApiError(400, 'ERR_BAD_JSON', fe.message);
  if (fe.statusCode === 413) return new ApiError(413, 'ERR_TOO_LARGE', fe.message);
  // Any other client error fastify raises keeps its status, in our shape.
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)
    return new ApiError(fe.statusCode, 'ERR_BAD_REQUEST', fe.message);
  return new ApiError(500, 'ERR_INTERNAL', 'internal error');
}

/**
 * The longest path parameter routed (fastify's default is 100). A name is at most 255 octets
 * (RFC 1035 §2.3.4); written with `\DDD` escapes (RFC 1035 §5.1) for every octet it is about 1,000
 * characters, and fastify counts the parameter after %-decoding.
 */
export const MAX_PARAM_LENGTH = 1100;

/** The one body of every error: `{ error: { code, message, field? } }`. */
export const errorBody = (e: ApiError): { error: { code: ApiErrorCode; message: string; field?: string } } => ({
  error: { code: e.code, message: e.message, ...(e.field !== undefined && { field: e.field }) },
});

export function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  return reply.code(e.status).type('application/json').send(errorBody(e));
}

export function errorHandler(log: Logger) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const e = toApiError(err);
    // Only failures of ours are logged with their stack; a client's bad request is its own business.
    if (e.status >= 500) log.error({ err, method: request.method, url: request.url }, 'api request failed');
    return sendError(reply, e);
  };
}
