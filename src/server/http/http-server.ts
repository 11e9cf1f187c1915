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
  // Connections with no request in progress, and since when.
  const idleSince = new Map<net.Socket, number>();
  server.on('connection', (socket: net.Socket) => {
    idleSince.set(socket, Date.now());
    socket.once('close', () => idleSince.delete(socket));
  });
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    // While draining, answers carry "Connection: close" so clients do not reuse the socket.
    if (closing) response.shouldKeepAlive = false;
    const socket = request.socket;
    idleSince.delete(socket);
    response.once('close', () => {
      if (!socket.destroyed) idleSince.set(socket, Date.now());
    });
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
    close: ({ graceMs = 1_000, timeoutMs = 10_000 } = {}) =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        // net.Server's close, not http.Server's: the latter also drops connections
        // that were accepted but have not sent their request yet.
        net.Server.prototype.close.call(server, (error?: Error) => (error ? reject(error) : resolve()));
        // Only connections idle for graceMs: one that went idle a moment ago
        // may carry the client's next request already, and closing it then
        // would lose that request (the keep-alive race). The sweep waits for
        // setImmediate, after the loop's poll phase: when this process was
        // stalled, a timer runs before the sockets are read, and a request
        // already in a socket's buffer would be closed unseen.
        const idle = setTimeout(() => {
          setImmediate(() => {
            const now = Date.now();
            for (const [socket, since] of idleSince) if (now - since >= graceMs) socket.destroy();
            if (!closed) idle.refresh();
          });
        }, graceMs);
        const hard = setTimeout(() => server.closeAllConnections(), timeoutMs);
        let closed = false;
        server.once('close', () => {
          closed = true;
          clearTimeout(idle);
          clearTimeout(hard);
        });
      }),
  };
}
