import type { WorkflowStatus } from '../../db/tenant-database.js';
import { inputError, SchemataError } from '../../errors.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { insertAuditEntry } from '../audit/audit-log.repository.js';
import { boundedJsonObject, boundedText } from '../validation.js';
import { deleteWorkflow as deleteWorkflowRow, insertWorkflow, updateWorkflow as updateWorkflowRow, type Workflow } from './workflow.repository.js';

const MAX_CONFIG_BYTES = 64 * 1024;

export interface CreateWorkflowInput {
  readonly name: string;
  readonly status?: WorkflowStatus | null | undefined;
  readonly config?: Record<string, unknown> | null | undefined;
}

export interface UpdateWorkflowInput {
  readonly id: string;
  readonly name?: string | null | undefined;
  readonly status?: WorkflowStatus | null | undefined;
  readonly config?: Record<string, unknown> | null | undefined;
}

export async function createWorkflow(db: TenantDb, actorId: string | null, input: CreateWorkflowInput): Promise<Workflow> {
  const workflow = await insertWorkflow(db, {
    name: boundedText('input.name', input.name, 200),
    status: input.status ?? 'active',
    config: boundedJsonObject('input.config', input.config ?? {}, MAX_CONFIG_BYTES),
  });
  await insertAuditEntry(db, { actorId, action: 'workflow.created', entityType: 'workflow', entityId: workflow.id, details: { name: workflow.name } });
  return workflow;
}

export async function updateWorkflow(db: TenantDb, actorId: string | null, input: UpdateWorkflowInput): Promise<Workflow> {
  const changes = {
    name: input.name == null ? undefined : boundedText('input.name', input.name, 200),
    status: input.status ?? undefined,
    config: input.config == null ? undefined : boundedJsonObject('input.config', input.config, MAX_CONFIG_BYTES),
  };
  const changed = Object.entries(changes).filter(([, value]) => value !== undefined).map(([key]) => key);
  if (changed.length === 0) throw inputError('input', 'give at least one of name, status or config');
  const workflow = await updateWorkflowRow(db, input.id, changes);
  if (!workflow) throw notFound();
  await insertAuditEntry(db, { actorId, action: 'workflow.updated', entityType: 'workflow', entityId: workflow.id, details: { changed } });
  return workflow;
}

export async function deleteWorkflow(db: TenantDb, actorId: string | null, id: string): Promise<Workflow> {
  const workflow = await deleteWorkflowRow(db, id);
  if (!workflow) throw notFound('id');
  await insertAuditEntry(db, { actorId, action: 'workflow.deleted', entityType: 'workflow', entityId: id, details: { name: workflow.name } });
  return workflow;
}

function notFound(field = 'input.id'): SchemataError {
  return new SchemataError('NOT_FOUND', `${field}: no such workflow`, { field });
}
