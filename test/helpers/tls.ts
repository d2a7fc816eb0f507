// A test CA and the certificates it signs, made with openssl in a directory of the test's: for
// etcd over TLS (test/helpers/etcd.ts) and the HTTPS API (test/e2e/api-tls.test.ts). Nothing is
// kept: each test makes its own, valid for a day.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** PEM files of a test CA, a server certificate for 127.0.0.1 and a client certificate it signed. */
export interface TlsFiles {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** Makes a CA, a server certificate (IP 127.0.0.1) and a client certificate in `dir`, with openssl. */
export function makeTls(dir: string): TlsFiles {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (n: string) =>
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', f(n));
  key('ca.key');
  ssl('req', '-x509', '-new', '-key', f('ca.key'), '-days', '1', '-subj', '/CN=gslbd test CA', '-out', f('ca.pem'));
  const certs = [
    ['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n'],
    ['client', 'gslbd', 'extendedKeyUsage=clientAuth\n'],
  ] as const;
  for (const [name, cn, ext] of certs) {
    key(`${name}.key`);
    ssl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.pem`),
    );
  }
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}
