import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { findLatestSnapshot } from '../../src/control/usage/fleet-analytics.repository.js';
import { refreshFleetAnalytics } from '../../src/control/usage/fleet-analytics.service.js';
import { fleetOverview } from '../../src/control/usage/tenant-usage.service.js';
import { createTenant } from '../../src/control/tenants/tenant.service.js';
import type { Database } from '../../src/db/database.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { migrateTenants } from '../../src/control/fleet/migrate-tenants.js';
import { loadTemplate, type Templates } from '../../src/migrations/template.js';

export interface FleetBenchmarkOptions {
  readonly tenants: number;
  /** How many creates are timed, one at a time, after the rest of the fleet exists. */
  readonly timedCreates: number;
  readonly concurrency: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

export interface FleetBenchmarkResult {
  readonly tenants: number;
  readonly provisioning: { readonly samples: number; readonly medianMs: number; readonly p95Ms: number; readonly maxMs: number };
  /** One ADD COLUMN + CREATE INDEX migration applied to every tenant. */
  readonly fanOut: { readonly ms: number; readonly migrated: number; readonly failed: number; readonly concurrency: number };
  /** A migrate run (control plane + tenants) with nothing pending. */
  readonly noOpMs: number;
  /** Recomputing the cross-tenant analytics over every tenant, then reading them and the fleet overview as the admin API does. */
  readonly analytics: { readonly refreshMs: number; readonly readMs: number; readonly fleetOverviewMs: number };
}

const FAN_OUT_SQL = `-- migrate:up
ALTER TABLE deployments ADD COLUMN region text;
CREATE INDEX deployments_region_idx ON deployments (region);
-- migrate:down
ALTER TABLE deployments DROP COLUMN region;
`;

/** Provisioning latency, one-migration fan-out, no-op migrate and the analytics pass, on a database the caller dedicates to it. */
export async function runFleetBenchmark(database: Database, templates: Templates, options: FleetBenchmarkOptions): Promise<FleetBenchmarkResult> {
  await migrateControlPlane(database, templates.control);
  // Fill the fleet first, in parallel and untimed, so the timed creates pay
  // what provisioning costs at this scale rather than on an empty cluster.
  const limit = pLimit(options.concurrency);
  const untimed = options.tenants - options.timedCreates;
  let created = 0;
  await Promise.all(
    Array.from({ length: untimed }, (_, k) =>
      limit(async () => {
        await createTenant(database, templates.tenant, { slug: `bench_${k}` });
        options.onProgress?.('provisioning (parallel, untimed)', ++created, untimed);
      }),
    ),
  );
  const timed: number[] = [];
  for (let i = 0; i < options.timedCreates; i++) {
    timed.push((await createTenant(database, templates.tenant, { slug: `bench_${untimed + i}` })).durationMs);
    options.onProgress?.('provisioning (timed, one at a time)', i + 1, options.timedCreates);
  }

  const next = await templateWithExtraMigration(templates);
  let started = performance.now();
  const fanOut = await migrateTenants(database, next, {
    direction: { direction: 'up' },
    concurrency: options.concurrency,
    onProgress: ({ done, total }) => options.onProgress?.('fan-out of one migration', done, total),
  });
  const fanOutMs = performance.now() - started;

  started = performance.now();
  await migrateControlPlane(database, templates.control);
  const noOp = await migrateTenants(database, next, { direction: { direction: 'up' }, concurrency: options.concurrency });
  const noOpMs = performance.now() - started;
  if (noOp.migrated + noOp.failed !== 0) throw new Error('the no-op run found work to do');

  started = performance.now();
  await refreshFleetAnalytics(database, { onProgress: (done, total) => options.onProgress?.('analytics refresh', done, total) });
  const refreshMs = performance.now() - started;
  started = performance.now();
  await findLatestSnapshot(database.control);
  const readMs = performance.now() - started;
  started = performance.now();
  await fleetOverview(database, next);
  const fleetOverviewMs = performance.now() - started;

  const sorted = [...timed].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    tenants: options.tenants,
    provisioning: { samples: sorted.length, medianMs: at(0.5), p95Ms: at(0.95), maxMs: sorted.at(-1) ?? 0 },
    fanOut: { ms: fanOutMs, migrated: fanOut.migrated, failed: fanOut.failed, concurrency: options.concurrency },
    noOpMs,
    analytics: { refreshMs, readMs, fleetOverviewMs },
  };
}

async function templateWithExtraMigration(templates: Templates) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'schemata-bench-'));
  await fs.cp(templates.tenant.dir, path.join(dir, 'tenant'), { recursive: true });
  const next = String(templates.tenant.latestVersion + 1).padStart(4, '0');
  await fs.writeFile(path.join(dir, 'tenant', `${next}_add_deployment_region.sql`), FAN_OUT_SQL);
  return loadTemplate(dir, 'tenant');
}
