import { sql, type Selectable } from 'kysely';
import { USER_COUNT_LOCK } from '../../db/schema-locks.js';
import type { UserRole, UsersTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { nameContains } from '../filters.js';
import { countRows, pageRows, type KeysetPage, type PageRow } from '../keyset-page.js';

export type User = Selectable<UsersTable>;

export interface UserFilter {
  readonly search?: string | undefined;
  readonly role?: UserRole | undefined;
}

function filtered(db: TenantDb, filter: UserFilter) {
  let query = db.selectFrom('users');
  if (filter.search) query = query.where((eb) => eb.or([nameContains('name', filter.search!), nameContains('email', filter.search!)]));
  if (filter.role) query = query.where('role', '=', filter.role);
  return query;
}

export async function findUsersByIds(db: TenantDb, ids: readonly string[]): Promise<User[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
}

export async function pageUsers(db: TenantDb, filter: UserFilter, page: KeysetPage, withCount = false): Promise<PageRow<User>[]> {
  return (await pageRows(filtered(db, filter), page, withCount).execute()) as PageRow<User>[];
}

export function countUsers(db: TenantDb, filter: UserFilter): Promise<number> {
  return countRows(filtered(db, filter));
}

export async function updateUserRole(db: TenantDb, id: string, role: UserRole): Promise<{ before: UserRole; user: User } | undefined> {
  const before = await db.selectFrom('users').select('role').where('id', '=', id).forUpdate().executeTakeFirst();
  if (!before) return undefined;
  const user = await db.updateTable('users').set({ role, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  return { before: before.role, user };
}

/** Serialises whoever counts users before adding one in this tenant, until the transaction ends. */
export async function lockUserCount(db: TenantDb): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${USER_COUNT_LOCK}, hashtext(current_schema()))`.execute(db);
}

/** `id` as a value for a created_by column: the user if it exists in this tenant, otherwise null. */
export function existingUser(db: TenantDb, id: string | null) {
  return id === null ? null : db.selectFrom('users').select('id').where('id', '=', id);
}
