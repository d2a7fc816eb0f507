// Who may use the API, and how much at once: the allow list (`api.allow`), checked on each new
// connection before a byte of it is read (or a TLS handshake made), the tokens, and the requests
// each client may have in flight (`api.max-in-flight-per-client`). One object, changed whole by a
// reload (SIGHUP), so rotated tokens and a new allow list apply to the next connection or request.

import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CidrSet } from '../0-base/cidr.ts';
import type { Logger } from '../0-base/log.ts';
import { CountMap } from '../6-serve/counters.ts';
import { clientOf } from '../6-serve/tcp-slots.ts';
import { DEFAULT_MAX_IN_FLIGHT_PER_CLIENT, type ApiOptions, type ApiToken } from '../7-config/api-options.ts';
import { ApiError, sendError } from './errors.ts';

/** What a reload may change without a restart. */
export type AccessOptions = Pick<ApiOptions, 'tokens' | 'allow' | 'maxInFlightPerClient'>;

/** How often, at most, a refused connection or a client over its limit is logged. */
const LOG_EVERY_MS = 10_000;

export class ApiAccess {
  #byHash = new Map<string, ApiToken>();
  #allow: CidrSet | null = null;
  #max = DEFAULT_MAX_IN_FLIGHT_PER_CLIENT;
  /** Requests in flight by client (clientOf: an IPv4 address, an IPv6 /64); a client at 0 is not kept. */
  readonly #inFlight = new Map<string, number>();
  readonly #log: Logger | null;
  #refusedLoggedAt = -Infinity;
  #limitedLoggedAt = -Infinity;
  /** Connections closed for api.allow (`allow`) and requests answered 429 (`in-flight`). */
  readonly refused = new CountMap();

  constructor(opts: AccessOptions, log: Logger | null = null) {
    this.#log = log;
    this.set(opts);
  }

  set(opts: AccessOptions): void {
    this.#byHash = new Map(opts.tokens.map((t) => [t.hash, t]));
    this.#allow = opts.allow ? new CidrSet(opts.allow) : null;
    this.#max = opts.maxInFlightPerClient ?? DEFAULT_MAX_IN_FLIGHT_PER_CLIENT;
  }

  /** The token whose SHA-256 is `hash`. */
  token(hash: string): ApiToken | undefined {
    return this.#byHash.get(hash);
  }

  /**
   * The server's 'connection' listener, ahead of HTTP's and TLS's own: a client outside
   * `api.allow` is disconnected at once. It gets no answer and no handshake (nothing to learn
   * about the server, no CPU spent on it); the log says why, at most every 10 s.
   */
  readonly onConnection = (socket: Socket): void => {
    const address = socket.remoteAddress ?? '';
    if (this.#allow === null || this.#allow.has(address)) return;
    socket.destroy();
    this.refused.add('allow');
    const now = Date.now();
    if (now - this.#refusedLoggedAt >= LOG_EVERY_MS) {
      this.#refusedLoggedAt = now;
      this.#log?.warn({ client: address }, 'api: connection refused: the client is not in api.allow');
    }
  };

  /**
   * The first onRequest hook: a request over the client's in-flight limit is answered 429 at once
   * (before authentication, so a client cannot make us hash tokens past it either). A request
   * counts from its headers until its response is sent or its connection closes.
   */
  readonly onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const client = clientOf(request.socket.remoteAddress ?? '');
    const n = this.#inFlight.get(client) ?? 0;
    if (n >= this.#max) {
      this.refused.add('in-flight');
      const now = Date.now();
      if (now - this.#limitedLoggedAt >= LOG_EVERY_MS) {
        this.#limitedLoggedAt = now;
        this.#log?.warn({ client, limit: this.#max }, 'api: client over its limit of requests in flight: 429');
      }
      reply.header('Retry-After', '1');
      const why = `${n} requests from this client are in flight already (api.max-in-flight-per-client: ${this.#max})`;
      return sendError(reply, new ApiError(429, 'ERR_TOO_MANY_REQUESTS', why));
    }
    this.#inFlight.set(client, n + 1);
    // 'close' comes once, whether the response was sent or the connection went first.
    reply.raw.once('close', () => {
      const left = (this.#inFlight.get(client) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(client, left);
      else this.#inFlight.delete(client);
    });
    return undefined;
  };
}
