import { SchemataError } from '../../errors.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { insertAuditEntry } from '../audit/audit-log.repository.js';
import { boundedText, optionalText, pgErrorCode } from '../validation.js';
import { insertProject, type Project } from './project.repository.js';

export interface CreateProjectInput {
  readonly name: string;
  readonly description?: string | null | undefined;
}

export async function createProject(db: TenantDb, actorId: string | null, input: CreateProjectInput): Promise<Project> {
  const name = boundedText('input.name', input.name, 200);
  const description = optionalText('input.description', input.description, 2000);
  let project: Project;
  try {
    project = await insertProject(db, { name, description, createdBy: actorId });
  } catch (error) {
    if (pgErrorCode(error) === '23505') {
      throw new SchemataError('CONFLICT', `input.name: a project named "${name}" already exists`, { field: 'input.name' });
    }
    throw error;
  }
  await insertAuditEntry(db, { actorId, action: 'project.created', entityType: 'project', entityId: project.id, details: { name } });
  return project;
}
