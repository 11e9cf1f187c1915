import { randomUUID } from 'node:crypto';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../../graphql/context.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { UsageRecorder } from '../../observability/usage-recorder.js';

export interface RequestTelemetryOptions {
  readonly logger: Logger;
  /** Request counts and latency per tenant; served on the metrics port, not here. */
  readonly metrics?: Metrics;
  /** Request counts per tenant and day in the control plane, for the admin API's usage. */
  readonly usage?: UsageRecorder;
}

interface RequestFacts {
  readonly id: string;
  readonly started: number;
  tenant?: string;
  tenantId?: string;
  operation?: string;
  errorCodes?: string[];
}

/**
 * What each request leaves behind. One JSON line per request: request id (the caller's X-Request-ID when it
 * sends a sane one), tenant, operation name and type, duration, HTTP status
 * and outcome. Only names and codes are logged, never variables or headers,
 * so tokens and passwords cannot leak into the log. The same facts feed the
 * Prometheus metrics.
 */
export function useRequestTelemetry(options: RequestTelemetryOptions): Plugin<GraphQLContext> {
  const facts = new WeakMap<Request, RequestFacts>();
  const { metrics } = options;
  return {
    onRequest({ request }) {
      const offered = request.headers.get('x-request-id');
      facts.set(request, { id: offered && /^[\w.-]{1,100}$/.test(offered) ? offered : randomUUID(), started: performance.now() });
    },
    onExecute({ args }) {
      const context = args.contextValue as GraphQLContext & { request?: Request };
      const fact = context.request ? facts.get(context.request) : undefined;
      if (!fact) return;
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      fact.tenant = context.tenant?.slug;
      fact.tenantId = context.tenant?.id;
      // A client names its operation: the log keeps a bounded part of the name.
      fact.operation = `${operation?.operation ?? 'unknown'} ${(operation?.name?.value ?? '(anonymous)').slice(0, 200)}`;
    },
    // The answer as the client gets it, masked: refusals thrown before execution (RATE_LIMITED, UNAUTHENTICATED) included.
    onResultProcess({ request, result }) {
      const fact = facts.get(request);
      const results = Array.isArray(result) ? result : [result];
      const codes = results.flatMap((one) => ((one as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
      if (fact && codes.length > 0) fact.errorCodes = codes;
    },
    onResponse({ request, response }) {
      const fact = facts.get(request);
      if (!fact) return;
      const status = response.status;
      const durationMs = Math.round((performance.now() - fact.started) * 10) / 10;
      const outcome = status >= 500 ? 'error' : status >= 400 || fact.errorCodes ? 'refused' : 'ok';
      options.logger.info(
        { requestId: fact.id, tenant: fact.tenant, operation: fact.operation, durationMs, status, outcome, ...(fact.errorCodes && { errorCodes: fact.errorCodes }) },
        'request',
      );
      metrics?.observe({ tenant: fact.tenant, outcome, durationMs, codes: fact.errorCodes });
      if (fact.tenantId) options.usage?.record(fact.tenantId, outcome !== 'ok');
      response.headers.set('x-request-id', fact.id);
    },
  };
}
