import { sql } from 'kysely';
import type { DeploymentStatus } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';

export interface TenantStats {
  readonly users: number;
  readonly projects: number;
  readonly workflows: number;
  readonly deployments: number;
  readonly deploymentsByStatus: readonly { readonly status: DeploymentStatus; readonly count: number }[];
}

/** Row counts of the tenant's tables, in one round trip. */
export async function readTenantStats(db: TenantDb): Promise<TenantStats> {
  const result = await sql<{ users: string; projects: string; workflows: string; by_status: { status: DeploymentStatus; count: number }[] | null }>`
    SELECT (SELECT count(*) FROM users) AS users,
           (SELECT count(*) FROM projects) AS projects,
           (SELECT count(*) FROM workflows) AS workflows,
           (SELECT json_agg(json_build_object('status', status, 'count', n) ORDER BY status)
              FROM (SELECT status, count(*)::int AS n FROM deployments GROUP BY status) s) AS by_status
  `.execute(db);
  const row = result.rows[0]!;
  const byStatus = row.by_status ?? [];
  return {
    users: Number(row.users),
    projects: Number(row.projects),
    workflows: Number(row.workflows),
    deployments: byStatus.reduce((sum, s) => sum + s.count, 0),
    deploymentsByStatus: byStatus,
  };
}
