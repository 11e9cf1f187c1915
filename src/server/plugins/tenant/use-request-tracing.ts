import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../../graphql/context.js';

export interface RequestTracingOptions {
  readonly tracer: Tracer;
}

/**
 * One span per request: the tenant's slug, the operation's name and type,
 * the HTTP status and outcome, the error codes. Execution runs inside it, so
 * each statement sent on the tenant's connection is a child span. Nothing
 * of the request's text goes in: no document, no variables, no headers, so
 * neither a literal nor a token can leak into a trace.
 */
export function useRequestTracing(options: RequestTracingOptions): Plugin<GraphQLContext> {
  const spans = new WeakMap<Request, Span>();
  return {
    onRequest({ request, url }) {
      spans.set(request, options.tracer.startSpan('graphql.request', { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': url.pathname } }));
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const request = (args.contextValue as { request?: Request }).request;
      const span = request && spans.get(request);
      if (!span) return;
      const tenant = (args.contextValue as GraphQLContext).tenant;
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      span.setAttributes({
        'schemata.tenant': tenant?.slug ?? '',
        'graphql.operation.type': operation?.operation ?? 'unknown',
        'graphql.operation.name': operation?.name?.value ?? '(anonymous)',
      });
      span.updateName(`${operation?.operation ?? 'graphql'} ${operation?.name?.value ?? '(anonymous)'}`);
      const active = trace.setSpan(context.active(), span);
      setExecuteFn((executeArgs) => context.with(active, () => executeFn(executeArgs)));
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? result.errors : undefined;
          if (errors?.length) span.setAttribute('schemata.error_codes', errors.map((e) => String(e.extensions?.code ?? (e.originalError as { code?: string } | undefined)?.code ?? 'ERROR')));
        },
      };
    },
    onResponse({ request, response }) {
      const span = spans.get(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
