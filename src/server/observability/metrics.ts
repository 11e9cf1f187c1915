import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsOptions {
  readonly pool: pg.Pool;
  /**
   * Tenants that get their own label value; the rest share "other", so a
   * fleet of 10,000 tenants cannot blow up the time-series count.
   * @default 100
   */
  readonly maxTenantLabels?: number;
  /** Open subscriptions per tenant slug, read at each scrape. */
  readonly subscriptions?: () => ReadonlyMap<string, number>;
  /** Live tenants below the template head, read at each scrape (the readiness probe's count, cached for a second). */
  readonly tenantsBehind?: () => Promise<number | undefined>;
  /** Whether the registry's LISTEN session is up, read at each scrape: while it is not, every request reads the control plane. */
  readonly registryInSync?: () => boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** One request; `codes` are the error codes it answered with, counted per tenant (QUOTA_EXCEEDED, RATE_LIMITED, …). */
  observe(request: { tenant: string | undefined; outcome: string; durationMs: number; codes?: readonly string[] | undefined }): void;
  /** One response-cache lookup: served from memory, or executed. */
  responseCache(result: 'hit' | 'miss'): void;
}

/** Prometheus metrics: requests, errors and latency per tenant (bounded), and the connection pool. */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const maxTenants = options.maxTenantLabels ?? 100;
  const labelled = new Set<string>();
  const tenantLabel = (tenant: string | undefined): string => {
    if (tenant === undefined) return 'none';
    if (labelled.has(tenant)) return tenant;
    if (labelled.size < maxTenants) {
      labelled.add(tenant);
      return tenant;
    }
    return 'other';
  };

  const requests = new Counter({ name: 'schemata_requests_total', help: 'GraphQL requests by tenant and outcome (ok, refused, error).', labelNames: ['tenant', 'outcome'], registers: [registry] });
  const duration = new Histogram({
    name: 'schemata_request_duration_seconds',
    help: 'Request latency by tenant.',
    labelNames: ['tenant'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const cacheLookups = new Counter({
    name: 'schemata_response_cache_total',
    help: 'Response-cache lookups by result (hit, miss); anonymous requests, mutations and introspection are not looked up.',
    labelNames: ['result'],
    registers: [registry],
  });
  // Both series from the start, so a hit rate can be computed before the first hit.
  cacheLookups.inc({ result: 'hit' }, 0);
  cacheLookups.inc({ result: 'miss' }, 0);
  new Gauge({
    name: 'schemata_db_pool_connections',
    help: 'Connections of the PostgreSQL pool, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, options.pool.totalCount);
      this.set({ state: 'idle' }, options.pool.idleCount);
      this.set({ state: 'waiting' }, options.pool.waitingCount);
    },
  });

  new Gauge({
    name: 'schemata_subscriptions',
    help: 'Open subscriptions (SSE and graphql-ws) by tenant.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      const byLabel = new Map<string, number>();
      for (const [slug, open] of options.subscriptions?.() ?? []) {
        const label = tenantLabel(slug);
        byLabel.set(label, (byLabel.get(label) ?? 0) + open);
      }
      for (const [tenant, open] of byLabel) this.set({ tenant }, open);
    },
  });

  const refusals = new Counter({
    name: 'schemata_errors_total',
    help: 'Error codes answered, by tenant and code (QUOTA_EXCEEDED, RATE_LIMITED, …); a request with several codes counts each once.',
    labelNames: ['tenant', 'code'],
    registers: [registry],
  });
  new Gauge({
    name: 'schemata_tenants_behind',
    help: 'Live tenants below the template head (run npm run migrate).',
    registers: [registry],
    async collect() {
      const behind = await options.tenantsBehind?.();
      if (behind !== undefined) this.set(behind);
    },
  });
  new Gauge({
    name: 'schemata_registry_in_sync',
    help: "1 while the tenant registry's LISTEN session is up and its cache trusted; 0 while every request reads the control plane.",
    registers: [registry],
    collect() {
      if (options.registryInSync) this.set(options.registryInSync() ? 1 : 0);
    },
  });

  return {
    registry,
    observe({ tenant, outcome, durationMs, codes }) {
      const label = tenantLabel(tenant);
      requests.inc({ tenant: label, outcome });
      duration.observe({ tenant: label }, durationMs / 1000);
      for (const code of new Set(codes)) refusals.inc({ tenant: label, code });
    },
    responseCache(result) {
      cacheLookups.inc({ result });
    },
  };
}
