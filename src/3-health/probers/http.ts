// HTTP and HTTPS checks: GET `path`; passes on an expected status and, if asked, a body containing
// `body`. `hostname` sets the Host header and the TLS SNI name; `insecure` accepts any certificate.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { urlHost } from '../../0-base/listen.ts';
import { LOCAL_ERRORS, type ProbeOptions, type ProbeResult, type ProbeTarget, type Prober } from '../types.ts';

const HARD = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Enough to find a marker in a health page; the rest is not read. */
const MAX_BODY = 64 * 1024;
export const USER_AGENT = 'gslbd-health-check/0.1';

export const httpProber: Prober = {
  probe({ address, spec }: ProbeTarget, { signal }: ProbeOptions): Promise<ProbeResult> {
    const started = performance.now();
    const secure = spec.type === 'https';
    const hostHeader = spec.hostHeader ?? urlHost(address);
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean, reason: string, hard = false, local = false) => {
        if (done) return;
        done = true;
        resolve({ ok, reason, hard, latencyMs: performance.now() - started, ...(local && { local }) });
      };
      const options: https.RequestOptions = {
        host: address,
        port: spec.port,
        path: spec.path,
        method: 'GET',
        headers: { Host: hostHeader, 'User-Agent': USER_AGENT, Connection: 'close', Accept: '*/*' },
        agent: false,
        signal,
        ...(secure && {
          rejectUnauthorized: !spec.insecure,
          // SNI carries a host name, never an address (RFC 6066 §3).
          ...(spec.hostHeader && !net.isIP(spec.hostHeader) ? { servername: spec.hostHeader } : {}),
        }),
      };
      const req = (secure ? https : http).request(options, (res) => {
        const status = res.statusCode ?? 0;
        if (!spec.expect.includes(status)) {
          res.destroy();
          return finish(false, `HTTP ${status}`);
        }
        if (spec.body === undefined) {
          res.destroy();
          return finish(true, `HTTP ${status}`);
        }
        const want = spec.body;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes(want)) {
            res.destroy();
            finish(true, `HTTP ${status}, body matched`);
          } else if (text.length > MAX_BODY) {
            res.destroy();
            finish(false, `HTTP ${status}, "${want}" not in the first ${MAX_BODY} bytes`);
          }
        });
        res.on('end', () =>
          finish(
            text.includes(want),
            text.includes(want) ? `HTTP ${status}, body matched` : `HTTP ${status}, body lacks "${want}"`,
          ),
        );
        res.on('error', () =>
          finish(false, signal.aborted ? `timeout after ${spec.timeoutMs} ms` : 'response broken off'),
        );
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal.aborted) return finish(false, `timeout after ${spec.timeoutMs} ms`);
        finish(
          false,
          `${secure ? 'https' : 'http'} ${err.code ?? err.message}`,
          HARD.has(err.code ?? ''),
          LOCAL_ERRORS.has(err.code ?? ''),
        );
      });
      req.end();
    });
  },
};
