import type { Selectable } from 'kysely';
import type { UserRole, UsersTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { nameContains } from '../filters.js';
import { defineList } from '../tenant-list.js';

export type User = Selectable<UsersTable>;

export interface UserFilter {
  readonly search?: string | undefined;
  readonly role?: UserRole | undefined;
}

export const userList = defineList({
  table: 'users',
  from: (db) => db.selectFrom('users'),
  filter: (query, { search, role }: UserFilter) => {
    let q = query;
    if (search) q = q.where((eb) => eb.or([nameContains('name', search), nameContains('email', search)]));
    return role ? q.where('role', '=', role) : q;
  },
});

export async function updateUserRole(db: TenantDb, id: string, role: UserRole): Promise<{ before: UserRole; user: User } | undefined> {
  const before = await db.selectFrom('users').select('role').where('id', '=', id).forUpdate().executeTakeFirst();
  if (!before) return undefined;
  const user = await db.updateTable('users').set({ role, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  return { before: before.role, user };
}

/** `id` as a value for a created_by column: the user if it exists in this tenant, otherwise null. */
export function existingUser(db: TenantDb, id: string | null) {
  return id === null ? null : db.selectFrom('users').select('id').where('id', '=', id);
}
