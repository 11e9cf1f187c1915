import type { UserRole } from '../../db/tenant-database.js';
import { SchemataError } from '../../errors.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { insertAuditEntry } from '../audit/audit-log.repository.js';
import { updateUserRole as updateUserRoleRow, type User } from './user.repository.js';

export async function updateUserRole(db: TenantDb, actorId: string | null, input: { readonly userId: string; readonly role: UserRole }): Promise<User> {
  const changed = await updateUserRoleRow(db, input.userId, input.role);
  if (!changed) throw new SchemataError('NOT_FOUND', 'input.userId: no such user', { field: 'input.userId' });
  await insertAuditEntry(db, {
    actorId,
    action: 'user.role_changed',
    entityType: 'user',
    entityId: input.userId,
    details: { from: changed.before, to: input.role },
  });
  return changed.user;
}
