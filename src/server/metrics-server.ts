import type http from 'node:http';
import { listen, type RunningHttpServer } from './http-server.js';
import type { Metrics } from './metrics.js';

/**
 * Prometheus's scrape endpoint, `GET /metrics`, on a listener of its own:
 * the metrics name every busy tenant, so they stay off the public port and
 * are bound to an internal address (127.0.0.1 unless METRICS_HOST says otherwise).
 */
export function listenMetrics(metrics: Metrics, port: number, host: string): Promise<RunningHttpServer> {
  const handler: http.RequestListener = (request, response) => {
    if (request.url !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at GET /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n'),
    );
  };
  return listen(handler, port, host);
}
