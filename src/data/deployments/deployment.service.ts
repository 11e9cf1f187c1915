import type { DeploymentStatus } from '../../db/tenant-database.js';
import { inputError, SchemataError } from '../../errors.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { insertAuditEntry } from '../audit/audit-log.repository.js';
import { pgErrorCode } from '../validation.js';
import { findDeploymentForUpdate, insertDeployment, setDeploymentStatus, type Deployment } from './deployment.repository.js';

/** The lifecycle a deployment may follow; anything else is refused. */
const STATUS_TRANSITIONS: Readonly<Record<DeploymentStatus, readonly DeploymentStatus[]>> = {
  pending: ['building', 'failed'],
  building: ['active', 'failed'],
  active: ['archived'],
  failed: ['archived'],
  archived: [],
};

const ENVIRONMENT = /^[a-z][a-z0-9_-]{0,31}$/;

/** An environment name as a deployment may have one; the list filter takes the same rule, so it cannot carry more. */
export function parseEnvironment(field: string, environment: string): string {
  if (!ENVIRONMENT.test(environment)) throw inputError(field, 'use 1 to 32 lowercase letters, digits, - or _, starting with a letter');
  return environment;
}

export interface CreateDeploymentInput {
  readonly projectId: string;
  readonly environment?: string | null | undefined;
  readonly url?: string | null | undefined;
}

export async function createDeployment(db: TenantDb, actorId: string | null, input: CreateDeploymentInput): Promise<Deployment> {
  const environment = parseEnvironment('input.environment', input.environment ?? 'production');
  if (input.url != null && !/^https?:\/\//.test(input.url)) throw inputError('input.url', 'must be an http or https URL');
  let deployment: Deployment;
  try {
    deployment = await insertDeployment(db, { projectId: input.projectId, environment, url: input.url ?? null, status: 'pending', createdBy: actorId });
  } catch (error) {
    // The foreign key answers "is there such a project" in the insert itself.
    if (pgErrorCode(error) === '23503') throw new SchemataError('NOT_FOUND', 'input.projectId: no such project', { field: 'input.projectId' });
    throw error;
  }
  await insertAuditEntry(db, {
    actorId,
    action: 'deployment.created',
    entityType: 'deployment',
    entityId: deployment.id,
    details: { projectId: input.projectId, environment },
  });
  return deployment;
}

export async function updateDeploymentStatus(db: TenantDb, actorId: string | null, input: { readonly id: string; readonly status: DeploymentStatus }): Promise<Deployment> {
  const current = await findDeploymentForUpdate(db, input.id);
  if (!current) throw new SchemataError('NOT_FOUND', 'input.id: no such deployment', { field: 'input.id' });
  if (!STATUS_TRANSITIONS[current.status].includes(input.status)) {
    const allowed = STATUS_TRANSITIONS[current.status];
    throw new SchemataError(
      'INVALID_STATUS_TRANSITION',
      `input.status: a ${current.status} deployment cannot become ${input.status}; ${allowed.length ? `allowed: ${allowed.join(', ')}` : 'it is final'}`,
      { field: 'input.status' },
    );
  }
  const finishedAt = input.status === 'active' || input.status === 'failed' ? new Date() : current.finished_at;
  const deployment = await setDeploymentStatus(db, input.id, input.status, finishedAt);
  await insertAuditEntry(db, { actorId, action: 'deployment.status_changed', entityType: 'deployment', entityId: input.id, details: { from: current.status, to: input.status } });
  return deployment;
}
