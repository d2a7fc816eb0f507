// A burst of UDP queries from one socket, run as its own process (e.g. inside a network namespace
// with `ip netns exec`): `node udp-burst-client.ts HOST PORT COUNT NAME`. Sends COUNT queries for
// NAME A with ids 0..COUNT-1 at once, waits until every id has an answer or 20 s have passed
// (bounded), and prints {"sent": COUNT, "answered": N} on stdout.

import dgram from 'node:dgram';
import { buildQuery } from './raw.ts';

const [host = '127.0.0.1', port = '53', count = '1000', name = 'www.example.com'] = process.argv.slice(2);
const total = Number(count);
const seen = new Set<number>();
// Room for every answer of the burst (about 1 KiB of buffer each on Linux), so none is dropped
// here when this process is slow to read them on a busy machine.
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
const finish = () => {
  process.stdout.write(JSON.stringify({ sent: total, answered: seen.size }) + '\n');
  sock.close();
};
const timer = setTimeout(finish, 20_000);
sock.on('message', (msg) => {
  seen.add(msg.readUInt16BE(0));
  if (seen.size === total) {
    clearTimeout(timer);
    finish();
  }
});
// Sent in one go once bound (recvBufferSize is set on binding): libuv queues what the socket
// cannot take at once.
sock.bind(0, () => {
  for (let id = 0; id < total; id++) sock.send(buildQuery(name, 1, { id }), Number(port), host);
});
