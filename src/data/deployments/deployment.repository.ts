import { sql, type InferResult, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { DeploymentStatus, DeploymentsTable, TenantDatabase } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { createdWithin, type CreatedRange } from '../filters.js';
import { keysetOrder, pageRows, type KeysetPage, type PageRow } from '../keyset-page.js';
import type { Project } from '../projects/project.repository.js';
import { defineList } from '../tenant-list.js';
import { existingUser } from '../users/user.repository.js';

export type Deployment = Selectable<DeploymentsTable>;

export interface DeploymentFilter extends CreatedRange {
  readonly statuses?: readonly DeploymentStatus[] | undefined;
  readonly projectId?: string | undefined;
  readonly environment?: string | undefined;
}

export const deploymentList = defineList({
  table: 'deployments',
  from: (db) => db.selectFrom('deployments'),
  filter: (query, filter: DeploymentFilter) => {
    let q = query;
    if (filter.statuses && filter.statuses.length > 0) q = q.where('status', 'in', filter.statuses);
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (filter.environment) q = q.where('environment', '=', filter.environment);
    return createdWithin(q, filter);
  },
});

export type DeploymentPageRow = PageRow<Deployment> & {
  /** The deployment's project, fetched in the same statement. */
  readonly project: Project;
};

/**
 * The list page in one statement: the page, each deployment's project, and
 * (when asked) the filter's total. One round trip instead of three.
 */
export async function pageDeploymentsWithProjects(db: TenantDb, filter: DeploymentFilter, page: KeysetPage, withCount = false): Promise<DeploymentPageRow[]> {
  const rows = await withProject(pageRows(deploymentList.filtered(db, filter), page, withCount)).execute();
  return rows.map((row) => ({ ...row, project: projectFromJson(row.project) }));
}

/**
 * The same page for each of several projects, in one statement (a LATERAL
 * join per project id), so a nested `project { deployments }` costs one
 * statement per level of the query, not one per parent row. Each project's
 * rows keep the page's keyset order.
 */
export async function pageDeploymentsOfProjects(
  db: TenantDb,
  projectIds: readonly string[],
  filter: Omit<DeploymentFilter, 'projectId'>,
  page: KeysetPage,
  withCount = false,
): Promise<Map<string, DeploymentPageRow[]>> {
  const ofParent = deploymentList.filtered(db, filter).where(sql<boolean>`deployments.project_id = parent.project_id`);
  const perParent = withProject(pageRows(ofParent, page, withCount));
  // rows.* is exactly what the per-project subquery selects.
  const result = await sql<InferResult<typeof perParent>[number]>`
    SELECT rows.* FROM unnest(${[...projectIds]}::uuid[]) AS parent(project_id) CROSS JOIN LATERAL (${perParent}) AS rows
  `.execute(db);
  const byProject = new Map<string, DeploymentPageRow[]>(projectIds.map((id) => [id, []]));
  for (const row of result.rows) byProject.get(row.project_id)?.push({ ...row, project: projectFromJson(row.project) });
  const order = keysetOrder(page);
  for (const rows of byProject.values()) rows.sort(order);
  return byProject;
}

function withProject<O>(query: SelectQueryBuilder<TenantDatabase, 'deployments', O>) {
  return query.select(sql<ProjectJson>`(SELECT to_jsonb(p) FROM projects p WHERE p.id = deployments.project_id)`.as('project'));
}

type ProjectJson = Omit<Project, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string };

function projectFromJson(json: ProjectJson): Project {
  return { ...json, created_at: new Date(json.created_at), updated_at: new Date(json.updated_at) };
}

/** The list's count for each of several projects, in one statement. */
export async function countDeploymentsOfProjects(db: TenantDb, projectIds: readonly string[], filter: Omit<DeploymentFilter, 'projectId'>): Promise<Map<string, number>> {
  const rows = await deploymentList
    .filtered(db, filter)
    .where('project_id', 'in', projectIds)
    .select(['project_id', sql<string>`count(*)`.as('n')])
    .groupBy('project_id')
    .execute();
  return new Map(rows.map((row) => [row.project_id, Number(row.n)]));
}

/** `createdBy` is recorded only if it is a user of this tenant; an unknown project fails on its foreign key (23503). */
export async function insertDeployment(
  db: TenantDb,
  values: { projectId: string; environment: string; url: string | null; status: DeploymentStatus; createdBy: string | null },
): Promise<Deployment> {
  return db
    .insertInto('deployments')
    .values({
      project_id: values.projectId,
      environment: values.environment,
      url: values.url,
      status: values.status,
      created_by: existingUser(db, values.createdBy),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
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
