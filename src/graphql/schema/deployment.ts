import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { GraphQLResolveInfo } from 'graphql';
import {
  countDeployments,
  countDeploymentsOfProjects,
  findDeploymentsByIds,
  pageDeploymentsOfProjects,
  pageDeploymentsWithProjects,
  type Deployment,
  type DeploymentFilter,
  type DeploymentPageRow,
} from '../../data/deployments/deployment.repository.js';
import type { KeysetPage } from '../../data/keyset-page.js';
import { createDeployment, parseEnvironment, updateDeploymentStatus } from '../../data/deployments/deployment.service.js';
import { actorOf } from '../actor.js';
import { builder, CreatedOrder } from '../builder.js';
import { keysetConnection, type ConnectionArgs } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { parseGlobalId } from '../global-id.js';
import { loadByIds } from './load-by-ids.js';
import { ProjectRef } from './project.js';
import { UserRef } from './user.js';

export const DeploymentStatus = builder.enumType('DeploymentStatus', {
  values: {
    PENDING: { value: 'pending' },
    BUILDING: { value: 'building' },
    ACTIVE: { value: 'active' },
    FAILED: { value: 'failed' },
    ARCHIVED: { value: 'archived' },
  } as const,
});

const DeploymentRef = builder.loadableNode('Deployment', {
  id: { resolve: (deployment: Deployment) => deployment.id },
  load: loadByIds('Deployment', findDeploymentsByIds),
  fields: (t) => ({
    status: t.field({ type: DeploymentStatus, resolve: (d) => d.status }),
    environment: t.exposeString('environment'),
    url: t.field({ type: 'URL', nullable: true, resolve: (d) => d.url }),
    // Loaded through the per-request DataLoader: one query per page, not per row.
    project: t.field({ type: ProjectRef, resolve: (d) => d.project_id }),
    createdBy: t.field({ type: UserRef, nullable: true, resolve: (d) => d.created_by }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => d.updated_at }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.finished_at }),
  }),
});

const DeploymentFilterInput = builder.inputType('DeploymentFilter', {
  fields: (t) => ({
    status: t.field({ type: [DeploymentStatus], description: 'Any of these statuses.' }),
    projectId: t.id(),
    environment: t.string(),
    createdAfter: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

type FilterArg = typeof DeploymentFilterInput.$inferInput | null | undefined;

function deploymentFilter(filter: FilterArg, projectId?: string): DeploymentFilter {
  return {
    statuses: filter?.status ?? undefined,
    projectId: projectId ?? (filter?.projectId == null ? undefined : parseGlobalId('filter.projectId', String(filter.projectId), 'Project')),
    environment: filter?.environment == null ? undefined : parseEnvironment('filter.environment', filter.environment),
    createdAfter: filter?.createdAfter ?? undefined,
    createdBefore: filter?.createdBefore ?? undefined,
  };
}

/**
 * Fetches the page with each deployment's project and, when the client asks
 * for it, the total, in one statement; the projects prime the DataLoader so
 * `project { … }` costs no further query.
 */
function deploymentConnection(context: GraphQLContext, info: GraphQLResolveInfo, args: ConnectionArgs, filter: DeploymentFilter) {
  return keysetConnection(
    context,
    info,
    'deployments',
    args,
    async (page, withCount) => {
      const rows = filter.projectId
        ? await projectLoaders(context, filter).page(page, withCount).load(filter.projectId)
        : await pageDeploymentsWithProjects(context.db, filter, page, withCount);
      const projects = ProjectRef.getDataloader(context);
      for (const row of rows) projects.prime(row.project.id, row.project);
      return rows;
    },
    () => (filter.projectId ? projectLoaders(context, filter).count.load(filter.projectId) : countDeployments(context.db, filter)),
  );
}

interface ProjectLoaders {
  page(page: KeysetPage, withCount: boolean): DataLoader<string, DeploymentPageRow[]>;
  readonly count: DataLoader<string, number>;
}

/**
 * DataLoaders per distinct filter (and page) in a request: every project in a
 * page that asks for the same `deployments(…)` joins one batched statement
 * for its rows, and one for its total when a page alone cannot tell it.
 */
const projectLoaderCache = createContextCache((context: GraphQLContext) => {
  const byFilter = new Map<string, ProjectLoaders>();
  return (shared: Omit<DeploymentFilter, 'projectId'>): ProjectLoaders => {
    const filterKey = JSON.stringify(shared);
    let loaders = byFilter.get(filterKey);
    if (!loaders) {
      const pages = new Map<string, DataLoader<string, DeploymentPageRow[]>>();
      loaders = {
        page(page, withCount) {
          const pageKey = JSON.stringify([page, withCount]);
          let loader = pages.get(pageKey);
          if (!loader) {
            loader = new DataLoader(async (ids: readonly string[]) => {
              const byProject = await pageDeploymentsOfProjects(context.db, ids, shared, page, withCount);
              return ids.map((id) => byProject.get(id) ?? []);
            });
            pages.set(pageKey, loader);
          }
          return loader;
        },
        count: new DataLoader(async (ids: readonly string[]) => {
          const counts = await countDeploymentsOfProjects(context.db, ids, shared);
          return ids.map((id) => counts.get(id) ?? 0);
        }),
      };
      byFilter.set(filterKey, loaders);
    }
    return loaders;
  };
});

function projectLoaders(context: GraphQLContext, { projectId: _, ...shared }: DeploymentFilter): ProjectLoaders {
  return projectLoaderCache(context)(shared);
}

builder.queryField('deployments', (t) =>
  t.connection({
    type: DeploymentRef,
    args: { filter: t.arg({ type: DeploymentFilterInput }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (_root, args, context, info) => deploymentConnection(context, info, args, deploymentFilter(args.filter)),
  }),
);

builder.objectField(ProjectRef, 'deployments', (t) =>
  t.connection({
    type: DeploymentRef,
    args: { filter: t.arg({ type: DeploymentFilterInput }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (project, args, context, info) => deploymentConnection(context, info, args, deploymentFilter(args.filter, project.id)),
  }),
);

const CreateDeploymentInput = builder.inputType('CreateDeploymentInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    environment: t.string({ description: 'Defaults to production.' }),
    url: t.field({ type: 'URL' }),
  }),
});

builder.mutationField('createDeployment', (t) =>
  t.field({
    type: DeploymentRef,
    args: { input: t.arg({ type: CreateDeploymentInput, required: true }) },
    resolve: (_root, { input }, context) =>
      createDeployment(context.db, actorOf(context), {
        projectId: parseGlobalId('input.projectId', String(input.projectId), 'Project'),
        environment: input.environment,
        url: input.url?.toString(),
      }),
  }),
);

const UpdateDeploymentStatusInput = builder.inputType('UpdateDeploymentStatusInput', {
  fields: (t) => ({ id: t.id({ required: true }), status: t.field({ type: DeploymentStatus, required: true }) }),
});

builder.mutationField('updateDeploymentStatus', (t) =>
  t.field({
    type: DeploymentRef,
    args: { input: t.arg({ type: UpdateDeploymentStatusInput, required: true }) },
    resolve: (_root, { input }, context) =>
      updateDeploymentStatus(context.db, actorOf(context), { id: parseGlobalId('input.id', String(input.id), 'Deployment'), status: input.status }),
  }),
);
