import { projectList, type Project } from '../../data/projects/project.repository.js';
import { createProject } from '../../data/projects/project.service.js';
import { boundedText } from '../../data/validation.js';
import { actorOf } from '../actor.js';
import { builder, CreatedOrder } from '../builder.js';
import { keysetConnection } from '../connection.js';
import { deploymentConnection, deploymentFilter, DeploymentFilterInput, DeploymentRef } from './deployment.js';
import { loadByIds } from './load-by-ids.js';

export const ProjectRef = builder.loadableNode('Project', {
  id: { resolve: (project: Project) => project.id },
  load: loadByIds('Project', projectList.findByIds),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (project) => project.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (project) => project.updated_at }),
  }),
});

// A field of its own, so ProjectRef's type does not depend on DeploymentRef's, which depends on it.
builder.objectField(ProjectRef, 'deployments', (t) =>
  t.connection({
    type: DeploymentRef,
    args: { filter: t.arg({ type: DeploymentFilterInput }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (project, args, context, info) => deploymentConnection(context, info, args, deploymentFilter(args.filter, project.id)),
  }),
);

const ProjectFilter = builder.inputType('ProjectFilter', {
  fields: (t) => ({ search: t.string({ description: 'Part of the name, case-insensitive.' }) }),
});

builder.queryField('projects', (t) =>
  t.connection({
    type: ProjectRef,
    args: { filter: t.arg({ type: ProjectFilter }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (_root, args, context, info) => {
      const filter = { search: args.filter?.search == null ? undefined : boundedText('filter.search', args.filter.search, 200) };
      return keysetConnection(projectList, { context, info, args, filter });
    },
  }),
);

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({ name: t.string({ required: true }), description: t.string() }),
});

builder.mutationField('createProject', (t) =>
  t.field({
    type: ProjectRef,
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: (_root, { input }, context) => createProject(context.db, actorOf(context), input),
  }),
);
