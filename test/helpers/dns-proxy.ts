// A DNS proxy on loopback between a resolver and gslbd, UDP and TCP, that can change responses on
// the way back: the tampering middlebox of the DNSSEC tests.

import dgram from 'node:dgram';
import net from 'node:net';

export interface DnsProxy {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Forwards to 127.0.0.1:`upstream`; each UDP response (and each TCP message, framed) passes
 * `edit`, which may change it in place. One UDP socket upstream per query, closed after 5 s.
 */
export async function startDnsProxy(upstream: number, edit: (response: Buffer) => void): Promise<DnsProxy> {
  const udp = dgram.createSocket('udp4');
  const sockets = new Set<dgram.Socket>();
  udp.on('message', (msg, from) => {
    const up = dgram.createSocket('udp4');
    sockets.add(up);
    const done = () => {
      clearTimeout(timer);
      sockets.delete(up);
      up.close();
    };
    const timer = setTimeout(done, 5000);
    up.once('message', (resp) => {
      edit(resp);
      udp.send(resp, from.port, from.address);
      done();
    });
    up.send(msg, upstream, '127.0.0.1');
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((client) => {
    const up = net.connect(upstream, '127.0.0.1');
    conns.add(client).add(up);
    client.pipe(up);
    let buf = Buffer.alloc(0);
    up.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const n = buf.readUInt16BE(0);
        const msg = Buffer.from(buf.subarray(2, 2 + n));
        edit(msg);
        client.write(Buffer.concat([buf.subarray(0, 2), msg]));
        buf = buf.subarray(2 + n);
      }
    });
    const close = () => {
      client.destroy();
      up.destroy();
      conns.delete(client);
      conns.delete(up);
    };
    client.on('close', close).on('error', close);
    up.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    async stop() {
      for (const s of sockets) s.close();
      for (const c of conns) c.destroy();
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
