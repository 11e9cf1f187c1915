import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { listen, type RunningHttpServer } from '../http/http-server.js';
import type { Metrics } from './metrics.js';

export interface MetricsListenOptions {
  readonly port: number;
  readonly host: string;
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
}

/**
 * Prometheus's scrape endpoint, `GET /metrics`, on a listener of its own:
 * the metrics name every busy tenant, so they stay off the public port and
 * are bound to an internal address (127.0.0.1 unless METRICS_HOST says
 * otherwise), behind a bearer token where METRICS_TOKEN is set.
 */
export function listenMetrics(metrics: Metrics, options: MetricsListenOptions): Promise<RunningHttpServer> {
  const answer = (response: http.ServerResponse, status: number, text: string, headers: http.OutgoingHttpHeaders = {}) =>
    response.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(text);
  const handler: http.RequestListener = (request, response) => {
    if (request.url !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) return answer(response, 404, 'not found: metrics are at GET /metrics\n');
    if (options.token !== undefined && !sameSecret(request.headers.authorization ?? '', `Bearer ${options.token}`)) {
      return answer(response, 401, 'send Authorization: Bearer <METRICS_TOKEN>\n', { 'www-authenticate': 'Bearer' });
    }
    metrics.registry.metrics().then(
      (text) => answer(response, 200, text, { 'content-type': metrics.registry.contentType }),
      () => answer(response, 500, 'collecting metrics failed\n'),
    );
  };
  return listen(handler, options.port, options.host);
}

/** Compares digests, so neither the length nor the content of the token leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
