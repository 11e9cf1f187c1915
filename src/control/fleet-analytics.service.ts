import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { GrowthDay } from '../db/control-database.js';
import type { Database } from '../db/database.js';
import { countAcrossSchemas, countTenantsCreatedPerDay, insertSnapshot, type FleetAnalyticsSnapshot } from './fleet-analytics.repository.js';
import { listTenantsForMigration } from './tenant.repository.js';

export interface RefreshAnalyticsOptions {
  /** Schemas per aggregate statement. @default 200 */
  readonly batchSize?: number;
  /** Aggregate statements in flight at once, each on its own pooled connection. @default 2 */
  readonly concurrency?: number;
  /** Days of growth kept in the snapshot. @default 30 */
  readonly days?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Recomputes the cross-tenant analytics and stores them as a snapshot.
 *
 * Precomputed, not live: the admin API reads one row, whatever the fleet's
 * size, while the pass that fills it costs one statement per `batchSize`
 * schemas (10,000 tenants: 50 statements, two at a time), run by `npm run analytics` on a
 * schedule or by the admin API's refreshAnalytics. Only live tenants with a
 * schema (template version ≥ 1) are scanned; deleted ones are left out.
 */
export async function refreshFleetAnalytics(database: Database, options: RefreshAnalyticsOptions = {}): Promise<FleetAnalyticsSnapshot> {
  const batchSize = options.batchSize ?? 200;
  const days = options.days ?? 30;
  const started = performance.now();
  const since = startOfUtcDay(new Date(Date.now() - (days - 1) * 86_400_000));
  const tenants = await listTenantsForMigration(database.control, { statuses: ['active', 'suspended'], versionAbove: 0 });

  const deploymentsByStatus: Record<string, number> = {};
  const workflowsByStatus: Record<string, number> = {};
  const deploymentsPerDay: Record<string, number> = {};
  const usersPerDay: Record<string, number> = {};
  const limit = pLimit(options.concurrency ?? 2);
  let done = 0;
  const batches = [];
  for (let i = 0; i < tenants.length; i += batchSize) batches.push(tenants.slice(i, i + batchSize));
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        const counts = await countAcrossSchemas(database.control, batch.map((t) => t.schema_name), since);
        addInto(deploymentsByStatus, counts.deploymentsByStatus);
        addInto(workflowsByStatus, counts.workflowsByStatus);
        addInto(deploymentsPerDay, counts.deploymentsPerDay);
        addInto(usersPerDay, counts.usersPerDay);
        options.onProgress?.((done += batch.length), tenants.length);
      }),
    ),
  );
  const tenantsPerDay = await countTenantsCreatedPerDay(database.control, since);

  const growth: GrowthDay[] = [];
  for (let day = since.getTime(); day <= Date.now(); day += 86_400_000) {
    const key = new Date(day).toISOString().slice(0, 10);
    growth.push({ day: key, tenantsCreated: tenantsPerDay[key] ?? 0, deploymentsCreated: deploymentsPerDay[key] ?? 0, usersCreated: usersPerDay[key] ?? 0 });
  }
  return insertSnapshot(database.control, {
    durationMs: performance.now() - started,
    tenantsScanned: tenants.length,
    deploymentsByStatus,
    workflowsByStatus,
    growth,
  });
}

function addInto(total: Record<string, number>, part: Record<string, number>): void {
  for (const [key, n] of Object.entries(part)) total[key] = (total[key] ?? 0) + n;
}

function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}
