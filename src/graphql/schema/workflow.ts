import { workflowList, type Workflow } from '../../data/workflows/workflow.repository.js';
import { createWorkflow, deleteWorkflow, updateWorkflow } from '../../data/workflows/workflow.service.js';
import { boundedText } from '../../data/validation.js';
import { WORKFLOW_STATUSES } from '../../db/tenant-database.js';
import { actorOf } from '../actor.js';
import { builder, CreatedOrder } from '../builder.js';
import { loadChangedRow } from '../change-loads.js';
import { keysetConnection } from '../connection.js';
import { enumValues } from '../enum-values.js';
import { parseGlobalId } from '../global-id.js';
import { loadByIds } from './load-by-ids.js';
import type { RowChange } from '../../realtime/change-stream.js';

export const WorkflowStatus = builder.enumType('WorkflowStatus', { values: enumValues(WORKFLOW_STATUSES) });

// Workflows are a plan feature: without it every workflow field, the node
// lookup included, answers FEATURE_NOT_IN_PLAN instead of vanishing.
const WorkflowRef = builder.loadableNode('Workflow', {
  authScopes: { feature: 'workflows' },
  id: { resolve: (workflow: Workflow) => workflow.id },
  load: loadByIds('Workflow', workflowList.findByIds),
  fields: (t) => ({
    name: t.exposeString('name'),
    status: t.field({ type: WorkflowStatus, resolve: (w) => w.status }),
    // Up to 64 KiB each: it counts as ten objects towards the query cost.
    config: t.field({ type: 'JSONObject', extensions: { cost: 10 }, resolve: (w) => w.config }),
    createdAt: t.field({ type: 'DateTime', resolve: (w) => w.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (w) => w.updated_at }),
  }),
});

const WorkflowFilter = builder.inputType('WorkflowFilter', {
  fields: (t) => ({
    status: t.field({ type: [WorkflowStatus], description: 'Any of these statuses.' }),
    search: t.string({ description: 'Part of the name, case-insensitive.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

builder.queryField('workflows', (t) =>
  t.connection({
    type: WorkflowRef,
    authScopes: { feature: 'workflows' },
    args: { filter: t.arg({ type: WorkflowFilter }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (_root, args, context, info) => {
      const filter = {
        statuses: args.filter?.status ?? undefined,
        search: args.filter?.search == null ? undefined : boundedText('filter.search', args.filter.search, 200),
        createdAfter: args.filter?.createdAfter ?? undefined,
        createdBefore: args.filter?.createdBefore ?? undefined,
      };
      return keysetConnection(workflowList, { context, info, args, filter });
    },
  }),
);

const CreateWorkflowInput = builder.inputType('CreateWorkflowInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    status: t.field({ type: WorkflowStatus, description: 'Defaults to ACTIVE.' }),
    config: t.field({ type: 'JSONObject' }),
  }),
});

const UpdateWorkflowInput = builder.inputType('UpdateWorkflowInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    status: t.field({ type: WorkflowStatus }),
    config: t.field({ type: 'JSONObject', description: 'Replaces the whole config.' }),
  }),
});

const DeleteWorkflowPayload = builder.objectRef<{ deletedId: string }>('DeleteWorkflowPayload').implement({
  fields: (t) => ({ deletedId: t.exposeID('deletedId') }),
});

builder.mutationFields((t) => ({
  createWorkflow: t.field({
    type: WorkflowRef,
    authScopes: { feature: 'workflows' },
    args: { input: t.arg({ type: CreateWorkflowInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      await context.consumeResource('workflowsPerHour');
      return createWorkflow(context.db, actorOf(context), input);
    },
  }),
  updateWorkflow: t.field({
    type: WorkflowRef,
    authScopes: { feature: 'workflows' },
    args: { input: t.arg({ type: UpdateWorkflowInput, required: true }) },
    resolve: (_root, { input }, context) =>
      updateWorkflow(context.db, actorOf(context), { ...input, id: parseGlobalId('input.id', String(input.id), 'Workflow') }),
  }),
  // Deleting frees storage, so it skips the Mutation type's storage check.
  deleteWorkflow: t.field({
    type: DeleteWorkflowPayload,
    skipTypeScopes: true,
    authScopes: { $all: { member: true, feature: 'workflows' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      await deleteWorkflow(context.db, actorOf(context), parseGlobalId('id', String(args.id), 'Workflow'));
      return { deletedId: String(args.id) };
    },
  }),
}));

builder.subscriptionField('workflowChanged', (t) =>
  t.field({
    type: WorkflowRef,
    nullable: true,
    authScopes: { feature: 'workflows' },
    description: 'Each workflow created or updated, committed by anyone, with the workflow as it is then.',
    subscribe: (_root, _args, context) => context.rowChanges(['workflows']),
    resolve: (change: RowChange, _args, context) => loadChangedRow(context, 'workflows', change.id, workflowList.findByIds),
  }),
);
