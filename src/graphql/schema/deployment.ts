import type { GraphQLResolveInfo } from 'graphql';
import { deploymentList, pageDeploymentsWithProjects, type Deployment, type DeploymentFilter, type DeploymentPageRow } from '../../data/deployments/deployment.repository.js';
import { createDeployment, parseEnvironment, updateDeploymentStatus } from '../../data/deployments/deployment.service.js';
import { DEPLOYMENT_STATUSES } from '../../db/tenant-database.js';
import { actorOf } from '../actor.js';
import { builder, CreatedOrder } from '../builder.js';
import { loadChangedRow } from '../change-loads.js';
import { keysetConnection, type ConnectionArgs } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { enumValues } from '../enum-values.js';
import { parseGlobalId } from '../global-id.js';
import { projectDeploymentLoaders } from './deployment-loaders.js';
import { loadByIds } from './load-by-ids.js';
// project.ts imports this file too (for Project.deployments): each uses the other's refs only inside field thunks and resolvers, which Pothos runs after every file has loaded.
import { ProjectRef } from './project.js';
import { UserRef } from './user.js';
import type { RowChange } from '../../realtime/change-stream.js';

export const DeploymentStatus = builder.enumType('DeploymentStatus', { values: enumValues(DEPLOYMENT_STATUSES) });

export const DeploymentRef = builder.loadableNode('Deployment', {
  id: { resolve: (deployment: Deployment) => deployment.id },
  load: loadByIds('Deployment', deploymentList.findByIds),
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

export const DeploymentFilterInput = builder.inputType('DeploymentFilter', {
  fields: (t) => ({
    status: t.field({ type: [DeploymentStatus], description: 'Any of these statuses.' }),
    projectId: t.id(),
    environment: t.string(),
    createdAfter: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

type FilterArg = typeof DeploymentFilterInput.$inferInput | null | undefined;

export function deploymentFilter(filter: FilterArg, projectId?: string): DeploymentFilter {
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
 * `project { … }` costs no further query. One project's deployments go
 * through the request's loaders, batched with every other project's.
 */
export function deploymentConnection(context: GraphQLContext, info: GraphQLResolveInfo, args: ConnectionArgs, filter: DeploymentFilter) {
  const { projectId } = filter;
  const loaders = projectId === undefined ? undefined : projectDeploymentLoaders(context, filter);
  return keysetConnection(deploymentList, {
    context,
    info,
    args,
    filter,
    page: async (page, withCount) => {
      const rows = loaders && projectId ? await loaders.page(page, withCount).load(projectId) : await pageDeploymentsWithProjects(context.db, filter, page, withCount);
      primeProjects(context, rows);
      return rows;
    },
    count: loaders && projectId ? () => loaders.count.load(projectId) : undefined,
  });
}

function primeProjects(context: GraphQLContext, rows: readonly DeploymentPageRow[]): void {
  const projects = ProjectRef.getDataloader(context);
  for (const row of rows) projects.prime(row.project.id, row.project);
}

builder.queryField('deployments', (t) =>
  t.connection({
    type: DeploymentRef,
    args: { filter: t.arg({ type: DeploymentFilterInput }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (_root, args, context, info) => deploymentConnection(context, info, args, deploymentFilter(args.filter)),
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
    resolve: async (_root, { input }, context) => {
      await context.consumeResource('deploymentsPerHour');
      return createDeployment(context.db, actorOf(context), {
        projectId: parseGlobalId('input.projectId', String(input.projectId), 'Project'),
        environment: input.environment,
        url: input.url?.toString(),
      });
    },
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

const DeploymentChangeFilter = builder.inputType('DeploymentChangeFilter', {
  fields: (t) => ({
    projectId: t.id(),
    status: t.field({ type: [DeploymentStatus], description: 'Changes that leave the deployment in any of these statuses.' }),
    environment: t.string(),
  }),
});

builder.subscriptionField('deploymentChanged', (t) =>
  t.field({
    type: DeploymentRef,
    // Never null in an event sent: a change the filter excludes is not sent at all.
    nullable: true,
    description: 'Each deployment created, and each status transition, committed by anyone (this server, another, a CLI), with the deployment as it is then.',
    args: { filter: t.arg({ type: DeploymentChangeFilter }) },
    subscribe: (_root, args, context) => {
      deploymentFilter(args.filter); // bad input is refused when subscribing, not at the first event
      return context.rowChanges(['deployments']);
    },
    resolve: (change: RowChange, args, context) => {
      const filter = deploymentFilter(args.filter);
      // The filter stays in SQL, the one place it is written; subscribers that share it share the read.
      return loadChangedRow(context, `deployments:${JSON.stringify(filter)}`, change.id, (db, ids) => deploymentList.findByIdsFiltered(db, filter, ids));
    },
  }),
);
