// The HTTP API: one fastify instance, JSON only, every request authenticated. `buildApi` makes the
// app (tests drive it with inject()); `ApiServer` binds it to the configured address, over HTTPS
// with `api.tls`, and takes a reload's tokens, allow list, limit and certificate without a restart.

import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { lazy } from '../0-base/lazy.ts';
import { formatListen } from '../0-base/listen.ts';
import type { Logger } from '../0-base/log.ts';
import { authHook } from './auth.ts';
import { ApiAccess } from './access.ts';
import type { CountMap } from '../6-serve/counters.ts';
import { type ApiToken } from '../7-config/api-options.ts';
import { batchRoutes } from './batch.ts';
import { clientErrorHandler } from './client-error.ts';
import { ApiError, errorHandler, MAX_PARAM_LENGTH, sendError, toApiError } from './errors.ts';
import { poolRoutes } from './pools.ts';
import { targetRoutes } from './targets.ts';
import { type ApiBackend } from './types.ts';
import { DEFAULT_BODY_LIMIT, type ApiOptions } from '../7-config/api-options.ts';
import { zoneRoutes } from './zones.ts';
import { operationRoutes } from './operations.ts';
import { statusPage } from './status-page.ts';
import { openApi } from './openapi.ts';

export interface BuildOptions {
  /** The tokens, unless `access` is given. */
  readonly tokens: readonly ApiToken[];
  /** Tokens, allow list and in-flight limit that a reload may replace (ApiServer's); default: `tokens` alone. */
  readonly access?: ApiAccess;
  readonly log: Logger;
  readonly bodyLimit?: number;
  readonly now?: () => number;
  /** Serve HTTPS with this certificate chain and key (PEM). */
  readonly tls?: TlsPem;
}

export interface TlsPem {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Loaded by the first API built: a worker thread, which serves no API, never loads it. */
const fastify = lazy<typeof import('fastify')>('fastify');

export function buildApi(backend: ApiBackend, opts: BuildOptions): FastifyInstance {
  const access = opts.access ?? new ApiAccess({ tokens: opts.tokens }, opts.log);
  const app = fastify()({
    ...(opts.tls && { https: { cert: opts.tls.cert, key: opts.tls.key } }),
    // Our own log lines (below): fastify's would include request headers, tokens among them.
    logger: false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors raised before a route is found (a parameter too long, a path that does not decode)
    // and before fastify has a request at all: in the API's error shape too.
    frameworkErrors: (err, _request, reply) => sendError(reply, toApiError(err)),
    clientErrorHandler,
    ajv: {
      // Unknown fields are errors, not silently dropped; "5" is not a number; one error at a time.
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, discriminator: true },
    },
  });
  const now = opts.now ?? Date.now;
  // JSON only: a text body gets 415 rather than a confusing "must be object".
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('tokenName', '');
  // Ahead of HTTP's (and TLS's) own listener: a client outside api.allow is gone before either reads.
  app.server.prependListener('connection', access.onConnection);
  app.addHook('onRequest', access.onRequest);
  app.addHook('onRequest', authHook(access));
  app.setErrorHandler(errorHandler(opts.log));
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new ApiError(404, 'ERR_NOT_FOUND', `no endpoint ${req.method} ${req.url.split('?')[0]}`)),
  );
  app.addHook('onResponse', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    // Method, path, status and the token's name: never the token, never the body.
    opts.log.info(
      { api: { method: req.method, url: req.url, status: reply.statusCode, token: req.tokenName || null } },
      'api change',
    );
    // gslbd_updates_total: a write that got past authentication is a change submitted, applied or
    // rejected as a whole (a batch counts once, like an RFC 2136 UPDATE message). A reload is not one.
    if (req.tokenName && req.routeOptions.url !== '/v1/reload')
      backend.updates?.add(`api\t${reply.statusCode < 400 ? 'applied' : 'rejected'}`);
  });
  // Response schemas document the API (openapi.ts); the bodies are sent as they are, never cut
  // down to a schema's properties.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const routes: ApiRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, hidden: r.schema?.hide === true });
  });
  routeLists.set(app, routes);
  openApi(app);
  // Registered after the document's plugin, so every route is in it.
  app.register(async (api) => {
    zoneRoutes(api, backend);
    poolRoutes(api, backend, now);
    targetRoutes(api, backend, now);
    batchRoutes(api, backend);
    operationRoutes(api, backend);
    statusPage(api);
  });
  return app;
}

/** One route the API serves; `hidden` ones (the HTML pages, the document itself) are not in the document. */
export interface ApiRoute {
  readonly method: string;
  readonly url: string;
  readonly hidden: boolean;
}
const routeLists = new WeakMap<FastifyInstance, ApiRoute[]>();

/** Every route `buildApi` made `app` serve, once it is ready: what the OpenAPI document must cover. */
export const apiRoutes = (app: FastifyInstance): readonly ApiRoute[] => routeLists.get(app) ?? [];

export interface ApiServerOptions {
  readonly log: Logger;
  /** The time writes are stamped with and reports and overrides expire by (default Date.now). */
  readonly now?: () => number;
  /** `api.tls`'s certificate chain and key, read (7-config/load.ts readTlsFiles). */
  readonly tls?: TlsPem;
}

export class ApiServer {
  readonly app: FastifyInstance;
  /** As started: what a reload cannot change is compared with this. */
  readonly #opts: ApiOptions;
  readonly #log: Logger;
  readonly #access: ApiAccess;

  /** Connections closed for api.allow (`allow`), requests answered 429 (`in-flight`). */
  get refused(): CountMap {
    return this.#access.refused;
  }

  constructor(backend: ApiBackend, opts: ApiOptions, run: ApiServerOptions) {
    this.#opts = opts;
    this.#log = run.log;
    this.#access = new ApiAccess(opts, run.log);
    this.app = buildApi(backend, {
      tokens: opts.tokens,
      access: this.#access,
      log: run.log,
      ...(opts.bodyLimit !== undefined && { bodyLimit: opts.bodyLimit }),
      ...(run.now && { now: run.now }),
      ...(run.tls && { tls: run.tls }),
    });
  }

  /**
   * A reload's settings: tokens, allow list and in-flight limit apply to the next request (the
   * allow list to the next connection), a certificate to the next TLS handshake. What needs a new
   * socket or a new server (listen, turning TLS on or off, body-limit) waits for a restart: the
   * answer names each such key, for the log.
   */
  update(opts: ApiOptions, tls?: TlsPem): string[] {
    const later: string[] = [];
    const was = this.#opts;
    if (formatListen(opts.listen) !== formatListen(was.listen)) later.push('api.listen');
    if ((opts.tls === undefined) !== (was.tls === undefined)) later.push('api.tls');
    if ((opts.bodyLimit ?? DEFAULT_BODY_LIMIT) !== (was.bodyLimit ?? DEFAULT_BODY_LIMIT)) later.push('api.body-limit');
    this.#access.set(opts);
    if (tls && was.tls && opts.tls) (this.app.server as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
    return later;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const a = this.app.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async start(): Promise<void> {
    const { host, port } = this.#opts.listen;
    await this.app.listen({ host, port });
    const scheme = this.#opts.tls ? 'https' : 'http';
    this.#log.info({ address: formatListen({ host, port: this.port }), port: this.port, scheme }, 'api listening');
  }

  async stop(): Promise<void> {
    await this.app.close();
  }
}
