import type { Plugin } from 'graphql-yoga';
import type { ReadinessState } from '../../observability/readiness.js';

export interface ServiceEndpointsOptions {
  /** Answers /ready; without it /ready is 200 while the process serves. */
  readonly readiness?: () => Promise<ReadinessState>;
  /** Where `/` points a person, in development; in production `/` is a plain 404. */
  readonly links?: Readonly<Record<string, string>> | undefined;
}

/**
 * /health (liveness), /ready (readiness) and `/`, each with a small JSON
 * body a person or a probe can read. Yoga's own /health answers an empty
 * body, so the Yoga factory moves it out of the way (healthCheckEndpoint).
 */
export function useServiceEndpoints(options: ServiceEndpointsOptions): Plugin {
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      const json = (body: unknown, status = 200) =>
        new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/health') return endResponse(json({ status: 'ok' }));
      if (url.pathname === '/' && options.links) return endResponse(json({ service: 'schemata', ...options.links }));
      if (url.pathname !== '/ready') return;
      if (!options.readiness) return endResponse(json({ status: 'ready' }));
      return options.readiness().then(
        (state) => endResponse(state.ready ? json({ status: 'ready' }) : json({ status: 'not ready', reason: state.reason }, 503)),
        () => endResponse(json({ status: 'not ready', reason: 'the readiness check failed' }, 503)),
      );
    },
  };
}
