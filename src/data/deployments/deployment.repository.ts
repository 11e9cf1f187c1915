import type { Selectable } from 'kysely';
import type { DeploymentStatus, DeploymentsTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import type { CreatedRange } from '../filters.js';
import { cursorTimestamp, keysetPage, type KeysetPage } from '../keyset-page.js';

export type Deployment = Selectable<DeploymentsTable>;

export interface DeploymentFilter extends CreatedRange {
  readonly statuses?: readonly DeploymentStatus[] | undefined;
  readonly projectId?: string | undefined;
  readonly environment?: string | undefined;
}

function filtered(db: TenantDb, filter: DeploymentFilter) {
  let query = db.selectFrom('deployments');
  if (filter.statuses && filter.statuses.length > 0) query = query.where('status', 'in', filter.statuses);
  if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
  if (filter.environment) query = query.where('environment', '=', filter.environment);
  if (filter.createdAfter) query = query.where('created_at', '>=', filter.createdAfter);
  if (filter.createdBefore) query = query.where('created_at', '<', filter.createdBefore);
  return query;
}

export async function findDeploymentsByIds(db: TenantDb, ids: readonly string[]): Promise<Deployment[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('deployments').selectAll().where('id', 'in', ids).execute();
}

export async function pageDeployments(db: TenantDb, filter: DeploymentFilter, page: KeysetPage): Promise<(Deployment & { cursor_ts: string })[]> {
  return keysetPage(filtered(db, filter).selectAll().select(cursorTimestamp.as('cursor_ts')), page).execute();
}

export async function countDeployments(db: TenantDb, filter: DeploymentFilter): Promise<number> {
  const row = await filtered(db, filter).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertDeployment(
  db: TenantDb,
  values: { project_id: string; environment: string; url: string | null; status: DeploymentStatus },
): Promise<Deployment> {
  return db.insertInto('deployments').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Locks the row, so a concurrent status change waits and then sees this one. */
export async function findDeploymentForUpdate(db: TenantDb, id: string): Promise<Deployment | undefined> {
  return db.selectFrom('deployments').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function setDeploymentStatus(db: TenantDb, id: string, status: DeploymentStatus, finishedAt: Date | null): Promise<Deployment> {
  return db
    .updateTable('deployments')
    .set({ status, finished_at: finishedAt, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
