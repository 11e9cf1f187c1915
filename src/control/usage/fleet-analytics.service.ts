import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { GrowthDay } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import {
  countAcrossSchemas,
  countTenantsCreatedPerDay,
  insertSnapshot,
  schemasWithCountedTables,
  type FleetAnalyticsSnapshot,
  type FleetCounts,
} from './fleet-analytics.repository.js';
import { listTenantsForMigration } from '../registry/tenant.repository.js';

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
        const counts = await countBatch(database, batch.map((t) => t.schema_name), since);
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

/** A tenant can be purged while the pass runs; then the batch is counted again without it. */
async function countBatch(database: Database, schemas: readonly string[], since: Date, attempts = 3): Promise<FleetCounts> {
  try {
    return await countAcrossSchemas(database.control, schemas, since);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    // 42P01/3F000: gone before the statement began; XX000 "could not open relation": dropped while it waited for the lock.
    const vanished = code === '42P01' || code === '3F000' || (code === 'XX000' && /could not open relation/.test(message ?? ''));
    if (attempts <= 1 || !vanished) throw error;
    return countBatch(database, await schemasWithCountedTables(database.control, schemas), since, attempts - 1);
  }
}

function addInto(total: Record<string, number>, part: Record<string, number>): void {
  for (const [key, n] of Object.entries(part)) total[key] = (total[key] ?? 0) + n;
}

function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}
