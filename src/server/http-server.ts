import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RunningHttpServer {
  readonly server: http.Server;
  readonly port: number;
  /**
   * Stops accepting connections, lets requests on connections already
   * accepted arrive and finish, closes keep-alive connections once idle, and
   * resolves when the last one is gone (or destroys the rest after `timeoutMs`).
   */
  close(options?: { graceMs?: number; timeoutMs?: number }): Promise<void>;
}

/** Serves a fetch-style handler (Yoga) over node:http. Port 0 picks a free port. */
export async function listen(handler: http.RequestListener, port: number, host = '127.0.0.1'): Promise<RunningHttpServer> {
  const server = http.createServer(handler);
  let closing = false;
  // While draining, answers carry "Connection: close" so clients do not reuse the socket.
  server.on('request', (_request, response: http.ServerResponse) => {
    if (closing) response.shouldKeepAlive = false;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: ({ graceMs = 500, timeoutMs = 10_000 } = {}) =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        // net.Server's close, not http.Server's: the latter also drops connections
        // that were accepted but have not sent their request yet.
        net.Server.prototype.close.call(server, (error?: Error) => (error ? reject(error) : resolve()));
        const idle = setTimeout(function sweep() {
          server.closeIdleConnections();
          idle.refresh();
        }, graceMs);
        const hard = setTimeout(() => server.closeAllConnections(), timeoutMs);
        server.once('close', () => {
          clearTimeout(idle);
          clearTimeout(hard);
        });
      }),
  };
}
