import type { Selectable } from 'kysely';
import type { ProjectsTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { nameContains } from '../filters.js';
import { defineList } from '../tenant-list.js';
import { existingUser } from '../users/user.repository.js';

export type Project = Selectable<ProjectsTable>;

export interface ProjectFilter {
  readonly search?: string | undefined;
}

export const projectList = defineList({
  table: 'projects',
  from: (db) => db.selectFrom('projects'),
  filter: (query, filter: ProjectFilter) => (filter.search ? query.where(nameContains('name', filter.search)) : query),
});

/** `createdBy` is recorded only if it is a user of this tenant (an identity provider's subject may not be). */
export async function insertProject(db: TenantDb, values: { name: string; description: string | null; createdBy: string | null }): Promise<Project> {
  return db
    .insertInto('projects')
    .values({ name: values.name, description: values.description, created_by: existingUser(db, values.createdBy) })
    .returningAll()
    .executeTakeFirstOrThrow();
}
