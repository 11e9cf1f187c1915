import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  readonly server: http.Server;
  readonly port: number;
  /** Stops accepting connections and waits for open requests to finish. */
  close(): Promise<void>;
}

/** Serves a fetch-style handler (Yoga) over node:http. Port 0 picks a free port. */
export async function listen(handler: http.RequestListener, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  const server = http.createServer(handler);
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
