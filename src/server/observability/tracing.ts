import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  readonly tracer: Tracer;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** The name spans are reported under: the service's, and the tracer's. */
export const TRACER_NAME = 'schemata';

/**
 * OpenTelemetry for this process: spans go to `exporter` (tests pass an
 * in-memory one, one by one) or over OTLP/HTTP to `otlpTracesUrl`, in
 * batches. Registered globally, so the database layer's statement spans
 * (src/db/scoped-statements.ts, through @opentelemetry/api alone) join the
 * request's span as its children. Without it the API is a no-op.
 */
export function startTracing(options: { readonly otlpTracesUrl?: string; readonly exporter?: SpanExporter }): Tracing {
  const processor = options.exporter ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpTracesUrl }));
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': TRACER_NAME }), spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer(TRACER_NAME),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
