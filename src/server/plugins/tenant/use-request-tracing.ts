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
 *
 * Two plugins: `span` goes early (it opens the span as the request arrives),
 * `execution` right after the compiled-execution plugin, which replaces the
 * execute function and would drop a wrapper set before it.
 */
export function useRequestTracing(options: RequestTracingOptions): { readonly span: Plugin<GraphQLContext>; readonly execution: Plugin<GraphQLContext> } {
  const spans = new WeakMap<Request, Span>();
  const spanOf = (contextValue: unknown) => {
    const request = (contextValue as { request?: Request }).request;
    return request && spans.get(request);
  };
  return {
    span: {
      onRequest({ request, url }) {
        spans.set(request, options.tracer.startSpan('graphql.request', { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': url.pathname } }));
      },
      onExecute({ args }) {
        const span = spanOf(args.contextValue);
        if (!span) return;
        const tenant = (args.contextValue as GraphQLContext).tenant;
        const operation = getOperationAST(args.document as DocumentNode, args.operationName);
        const name = (operation?.name?.value ?? '(anonymous)').slice(0, 200);
        span.setAttributes({ 'schemata.tenant': tenant?.slug ?? '', 'graphql.operation.type': operation?.operation ?? 'unknown', 'graphql.operation.name': name });
        span.updateName(`${operation?.operation ?? 'graphql'} ${name}`);
      },
      onResultProcess({ request, result }) {
        const span = spans.get(request);
        const errors = Array.isArray(result) ? [] : ((result as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors ?? []);
        if (span && errors.length > 0) span.setAttribute('schemata.error_codes', errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
      },
      onResponse({ request, response }) {
        const span = spans.get(request);
        if (!span) return;
        span.setAttribute('http.response.status_code', response.status);
        if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    },
    execution: {
      onExecute({ args, executeFn, setExecuteFn }) {
        const span = spanOf(args.contextValue);
        if (!span) return;
        const active = trace.setSpan(context.active(), span);
        setExecuteFn((executeArgs) => context.with(active, () => executeFn(executeArgs)));
      },
    },
  };
}
