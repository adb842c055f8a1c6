// Binding a connection-oriented listener (TCP, TLS, HTTP for WebSocket) and learning the
// address it got: the one start-up step every stream transport shares.

import type { Server } from 'node:net';

/**
 * Listens on host:port (an IPv6 host listens on IPv6 only, so `[::]` and `0.0.0.0` can be
 * listed side by side); resolves with the bound address (port 0 resolved). An error before
 * the bind rejects; later ones go to `onError`.
 */
export function listenServer(server: Server, host: string, port: number, onError: (err: Error) => void): Promise<{ address: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      server.on('error', onError);
      const a = server.address();
      resolve(a !== null && typeof a === 'object' ? { address: a.address, port: a.port } : { address: host, port });
    });
  });
}
