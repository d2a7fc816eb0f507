// Requests Node's HTTP parser rejects before fastify sees them (RFC 9110 §15.5): a request line and
// headers over the 16 KiB limit (a long URL counts, and the parser cannot tell which was long),
// bytes that are not HTTP, a request that does not arrive in time. Node would answer these with a
// bare status line and fastify with its own JSON; the API's clients get the one error shape.

import http from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, errorBody } from './errors.ts';

function fromParser(err: NodeJS.ErrnoException): ApiError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(
        431,
        'ERR_HEADERS_TOO_LARGE',
        `the request line and headers are over ${http.maxHeaderSize} bytes (a long URL counts)`,
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'ERR_TIMEOUT', 'the request did not arrive in time');
    default:
      return new ApiError(400, 'ERR_BAD_REQUEST', `not a valid HTTP request (${err.code ?? err.message})`);
  }
}

/** fastify's `clientErrorHandler`: answers in the API's error shape, then closes the connection. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer (Node's documentation of 'clientError').
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = fromParser(err);
  const body = JSON.stringify(errorBody(e));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.status} ${http.STATUS_CODES[e.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
