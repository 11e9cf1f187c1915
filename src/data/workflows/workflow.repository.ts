import type { Selectable } from 'kysely';
import type { WorkflowStatus, WorkflowsTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { createdWithin, nameContains, type CreatedRange } from '../filters.js';
import { defineList } from '../tenant-list.js';

export type Workflow = Selectable<WorkflowsTable>;

export interface WorkflowFilter extends CreatedRange {
  readonly statuses?: readonly WorkflowStatus[] | undefined;
  readonly search?: string | undefined;
}

export const workflowList = defineList({
  table: 'workflows',
  from: (db) => db.selectFrom('workflows'),
  filter: (query, filter: WorkflowFilter) => {
    let q = query;
    if (filter.statuses && filter.statuses.length > 0) q = q.where('status', 'in', filter.statuses);
    if (filter.search) q = q.where(nameContains('name', filter.search));
    return createdWithin(q, filter);
  },
});

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
