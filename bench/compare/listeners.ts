// The pool's "backends" for bench/compare.sh: one TCP listener per address, all on the same port,
// so the health checks of gslbd (tcp), gdnsd (tcp_connect) and PowerDNS (LUA ifportup) pass.
// A connection is accepted and left open until the peer closes it: gslbd keeps its check
// connection open between probes, gdnsd and PowerDNS connect and close. Nothing is read or written.
//
// Run: scripts/node24.sh node bench/compare/listeners.ts PORT ADDRESS...
// Prints one JSON line {"msg":"listening",...} once every address is bound; exits on SIGTERM.

import net from 'node:net';

const [portArg, ...addresses] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 1 || port > 65535 || addresses.length === 0) {
  console.error('usage: listeners.ts PORT ADDRESS...');
  process.exit(2);
}

const sockets = new Set<net.Socket>();
const servers = addresses.map((address) => {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // discard anything sent, so the peer never blocks
  });
  server.on('error', (err) => {
    console.error(`listeners: ${address}:${port}: ${err.message}`);
    process.exit(1);
  });
  return new Promise<net.Server>((resolve) => server.listen(port, address, () => resolve(server)));
});

const bound = await Promise.all(servers);
console.log(JSON.stringify({ msg: 'listening', port, addresses }));

process.once('SIGTERM', () => {
  for (const server of bound) server.close();
  for (const socket of sockets) socket.destroy();
});
