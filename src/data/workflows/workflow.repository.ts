import type { Selectable } from 'kysely';
import type { WorkflowStatus, WorkflowsTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { nameContains, type CreatedRange } from '../filters.js';
import { countRows, pageRows, type KeysetPage, type PageRow } from '../keyset-page.js';

export type Workflow = Selectable<WorkflowsTable>;

export interface WorkflowFilter extends CreatedRange {
  readonly statuses?: readonly WorkflowStatus[] | undefined;
  readonly search?: string | undefined;
}

function filtered(db: TenantDb, filter: WorkflowFilter) {
  let query = db.selectFrom('workflows');
  if (filter.statuses && filter.statuses.length > 0) query = query.where('status', 'in', filter.statuses);
  if (filter.search) query = query.where(nameContains('name', filter.search));
  if (filter.createdAfter) query = query.where('created_at', '>=', filter.createdAfter);
  if (filter.createdBefore) query = query.where('created_at', '<', filter.createdBefore);
  return query;
}

export async function findWorkflowsByIds(db: TenantDb, ids: readonly string[]): Promise<Workflow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('workflows').selectAll().where('id', 'in', ids).execute();
}

export async function pageWorkflows(db: TenantDb, filter: WorkflowFilter, page: KeysetPage, withCount = false): Promise<PageRow<Workflow>[]> {
  return (await pageRows(filtered(db, filter), page, withCount).execute()) as PageRow<Workflow>[];
}

export function countWorkflows(db: TenantDb, filter: WorkflowFilter): Promise<number> {
  return countRows(filtered(db, filter));
}

export async function insertWorkflow(db: TenantDb, values: { name: string; status: WorkflowStatus; config: Record<string, unknown> }): Promise<Workflow> {
  return db
    .insertInto('workflows')
    .values({ ...values, config: JSON.stringify(values.config) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateWorkflow(
  db: TenantDb,
  id: string,
  changes: { name?: string | undefined; status?: WorkflowStatus | undefined; config?: Record<string, unknown> | undefined },
): Promise<Workflow | undefined> {
  return db
    .updateTable('workflows')
    .set({
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.status !== undefined && { status: changes.status }),
      ...(changes.config !== undefined && { config: JSON.stringify(changes.config) }),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteWorkflow(db: TenantDb, id: string): Promise<Workflow | undefined> {
  return db.deleteFrom('workflows').where('id', '=', id).returningAll().executeTakeFirst();
}
