import type { Plan } from '../../control/plans/plan.repository.js';
import { quotaExceeded } from '../../control/plans/plan.service.js';
import type { UserRole } from '../../db/tenant-database.js';
import { SchemataError } from '../../errors.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { insertAuditEntry } from '../audit/audit-log.repository.js';
import { lockUserCount } from '../../db/schema-locks.js';
import { updateUserRole as updateUserRoleRow, userList, type User } from './user.repository.js';

export async function updateUserRole(db: TenantDb, actorId: string | null, input: { readonly userId: string; readonly role: UserRole }): Promise<User> {
  const changed = await updateUserRoleRow(db, input.userId, input.role);
  if (!changed) throw new SchemataError('NOT_FOUND', 'input.userId: no such user', { field: 'input.userId' });
  await insertAuditEntry(db, { actorId, action: 'user.role_changed', entityType: 'user', entityId: input.userId, details: { from: changed.before, to: input.role } });
  return changed.user;
}

/**
 * Refuses a new user when the tenant already has as many as its plan allows
 * (QUOTA_EXCEEDED naming maxUsers); invited users count. The count is taken
 * under a lock held until commit, so two invitations at once cannot both
 * take the last seat. Call it in the transaction that inserts the user.
 */
export async function reserveUserSeat(db: TenantDb, plan: Pick<Plan, 'name' | 'maxUsers'>): Promise<void> {
  if (plan.maxUsers === null) return;
  await lockUserCount(db);
  const current = await userList.count(db, {});
  if (current >= plan.maxUsers) throw quotaExceeded(plan, 'maxUsers', plan.maxUsers, current);
}
