import type { Selectable } from 'kysely';
import type { ProjectsTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { nameContains } from '../filters.js';
import { countRows, pageRows, type KeysetPage, type PageRow } from '../keyset-page.js';
import { existingUser } from '../users/user.repository.js';

export type Project = Selectable<ProjectsTable>;

export interface ProjectFilter {
  readonly search?: string | undefined;
}

function filtered(db: TenantDb, filter: ProjectFilter) {
  let query = db.selectFrom('projects');
  if (filter.search) query = query.where(nameContains('name', filter.search));
  return query;
}

export async function findProjectsByIds(db: TenantDb, ids: readonly string[]): Promise<Project[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('projects').selectAll().where('id', 'in', ids).execute();
}

export async function pageProjects(db: TenantDb, filter: ProjectFilter, page: KeysetPage, withCount = false): Promise<PageRow<Project>[]> {
  return (await pageRows(filtered(db, filter), page, withCount).execute()) as PageRow<Project>[];
}

export function countProjects(db: TenantDb, filter: ProjectFilter): Promise<number> {
  return countRows(filtered(db, filter));
}

/** `createdBy` is recorded only if it is a user of this tenant (an identity provider's subject may not be). */
export async function insertProject(db: TenantDb, values: { name: string; description: string | null; createdBy: string | null }): Promise<Project> {
  return db
    .insertInto('projects')
    .values({ name: values.name, description: values.description, created_by: existingUser(db, values.createdBy) })
    .returningAll()
    .executeTakeFirstOrThrow();
}
