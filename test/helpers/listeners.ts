// Real TCP, HTTP and HTTPS listeners for the health-check tests: each can be stopped (listening
// socket closed, connections reset), restarted on the same address and port, and told to misbehave
// (HTTP 500, a body without the expected text, an answer slower than the probe's timeout). They
// record what the probes did: when each connection came, and each request's Host, User-Agent and
// TLS server name.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface Listener {
  readonly host: string;
  /** Fixed at the first start, kept across restarts. */
  readonly port: number;
  /** Time (Date.now()) of every accepted connection, oldest first. */
  readonly accepted: number[];
  /** Accepted connections not yet closed. */
  readonly open: ReadonlySet<net.Socket>;
  /** Listens again on the same address and port. */
  start(): Promise<void>;
  /** Closes the listening socket and resets every open connection (a server that went away). */
  stop(): Promise<void>;
  /** Closes the listening socket only; open connections stay (a server that stopped accepting). */
  stopListening(): Promise<void>;
}

export type HttpMode =
  | { readonly kind: 'ok'; readonly status?: number }
  | { readonly kind: 'status'; readonly status: number }
  /** 200 with a body lacking the expected text. */
  | { readonly kind: 'wrong-body' }
  /** The whole response comes after `ms`. */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Status and headers at once, then the body never comes. */
  | { readonly kind: 'stall-body' };

export interface SeenRequest {
  readonly at: number;
  readonly path: string;
  readonly host: string | undefined;
  readonly userAgent: string | undefined;
  /** TLS SNI the client sent (https only); false (or null) when it sent none. */
  readonly servername: string | false | null | undefined;
}

export interface HttpListener extends Listener {
  mode: HttpMode;
  readonly requests: SeenRequest[];
}

/** The body a healthy HTTP listener serves. */
export const HEALTHY_BODY = 'status: OK\n';

class Base implements Listener {
  readonly host: string;
  port: number;
  readonly accepted: number[] = [];
  readonly open = new Set<net.Socket>();
  readonly server: net.Server;

  constructor(host: string, port: number, server: net.Server) {
    this.host = host;
    this.port = port;
    this.server = server;
    // 'connection' for TCP and HTTP; TLS servers report the raw socket through it too.
    server.on('connection', (sock: net.Socket) => {
      this.accepted.push(Date.now());
      this.open.add(sock);
      sock.on('error', () => {});
      sock.once('close', () => this.open.delete(sock));
    });
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    const closed = this.stopListening();
    for (const s of this.open) s.resetAndDestroy();
    await closed;
  }

  stopListening(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    // close() calls back only once every connection has ended; the listening socket itself is
    // closed at once, which is all callers wait for.
    return new Promise((resolve) => {
      this.server.close();
      setImmediate(resolve);
    });
  }
}

/** A TCP listener that accepts and keeps connections open, sending nothing. */
export async function tcpListener(host: string, port = 0): Promise<Listener> {
  const l = new Base(
    host,
    port,
    net.createServer(() => {}),
  );
  await l.start();
  return l;
}

class HttpBase extends Base implements HttpListener {
  mode: HttpMode = { kind: 'ok' };
  readonly requests: SeenRequest[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(host: string, port: number, server: http.Server | https.Server) {
    super(host, port, server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.#answer(req, res));
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const tls = (req.socket as Partial<TLSSocket>).encrypted ? (req.socket as TLSSocket) : null;
    this.requests.push({
      at: Date.now(),
      path: req.url ?? '',
      host: req.headers.host,
      userAgent: req.headers['user-agent'],
      servername: tls ? tls.servername : undefined,
    });
    const m = this.mode;
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    switch (m.kind) {
      case 'ok':
        return send(m.status ?? 200, HEALTHY_BODY);
      case 'status':
        return send(m.status, `error ${m.status}\n`);
      case 'wrong-body':
        return send(200, 'status: DEGRADED\n');
      case 'slow': {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          if (!res.destroyed) send(200, HEALTHY_BODY);
        }, m.ms);
        this.#timers.add(t);
        return;
      }
      case 'stall-body':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
        res.flushHeaders();
        return;
    }
  }

  override async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await super.stop();
  }
}

/** An HTTP listener (HTTPS when `tls` is given) serving HEALTHY_BODY on every path in mode ok. */
export async function httpListener(
  host: string,
  options: { port?: number; tls?: Certificate } = {},
): Promise<HttpListener> {
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert })
    : http.createServer();
  // Probes send `Connection: close`; keep-alive timers would only delay shutdown.
  server.keepAliveTimeout = 100;
  const l = new HttpBase(host, options.port ?? 0, server);
  await l.start();
  return l;
}

export interface Certificate {
  readonly key: string;
  readonly cert: string;
}

/** A self-signed P-256 certificate for CN=localhost, made by openssl (fails clearly without it). */
export function selfSignedCert(): Certificate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-cert-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT')
      throw new Error('the HTTPS tests need openssl on PATH (Debian: apt-get install openssl)', { cause: e });
    throw new Error(`openssl could not make a test certificate: ${err.stderr?.toString() ?? err.message}`, {
      cause: e,
    });
  }
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

/** Resolves once `cond()` holds, polling every `everyMs`; rejects with `what` after `timeoutMs`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
