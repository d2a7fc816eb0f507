// The floor for any Node.js DNS server: a UDP socket that echoes each query back with QR=1 and
// no parsing, no lookup, no encoding. bench/dnsperf.sh measures it beside gslbd, so gslbd's CPU
// time per query can be read as "the runtime's share" plus "ours".
//
// Run: scripts/node24.sh node bench/bare-udp.ts [PORT]   (prints the port it bound)

import dgram from 'node:dgram';

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  msg[2]! |= 0x80;
  sock.send(msg, rinfo.port, rinfo.address);
});
sock.bind(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', port: sock.address().port }));
});
process.once('SIGTERM', () => sock.close());
