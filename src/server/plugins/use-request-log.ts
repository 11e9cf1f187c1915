import { randomUUID } from 'node:crypto';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../graphql/context.js';
import type { Logger } from '../logger.js';

export interface RequestLogOptions {
  readonly logger: Logger;
}

interface RequestFacts {
  readonly id: string;
  readonly started: number;
  tenant?: string;
  operation?: string;
  errorCodes?: string[];
}

/**
 * One JSON line per request: request id (the caller's X-Request-ID when it
 * sends a sane one), tenant, operation name and type, duration, HTTP status
 * and outcome. Only names and codes are logged, never variables or headers,
 * so tokens and passwords cannot leak into the log.
 */
export function useRequestLog(options: RequestLogOptions): Plugin<GraphQLContext> {
  const facts = new WeakMap<Request, RequestFacts>();
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
      fact.operation = `${operation?.operation ?? 'unknown'} ${operation?.name?.value ?? '(anonymous)'}`;
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? result.errors : undefined;
          if (errors?.length) fact.errorCodes = errors.map((e) => String(e.extensions?.code ?? (e.originalError as { code?: string })?.code ?? 'ERROR'));
        },
      };
    },
    onResponse({ request, response }) {
      const fact = facts.get(request);
      if (!fact) return;
      const status = response.status;
      options.logger.info(
        {
          requestId: fact.id,
          tenant: fact.tenant,
          operation: fact.operation,
          durationMs: Math.round((performance.now() - fact.started) * 10) / 10,
          status,
          outcome: status >= 500 ? 'error' : status >= 400 || fact.errorCodes ? 'refused' : 'ok',
          ...(fact.errorCodes && { errorCodes: fact.errorCodes }),
        },
        'request',
      );
      response.headers.set('x-request-id', fact.id);
    },
  };
}
