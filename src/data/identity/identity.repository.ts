import { sql, type Selectable } from 'kysely';
import type { OneTimeTokenPurpose, RefreshTokensTable, UserRole } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import type { User } from '../users/user.repository.js';

export type RefreshToken = Selectable<RefreshTokensTable>;

export async function findUserByEmail(db: TenantDb, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
}

export async function findUserById(db: TenantDb, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertInvitedUser(db: TenantDb, values: { email: string; name: string; role: UserRole }): Promise<User> {
  return db.insertInto('users').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function setPasswordHash(db: TenantDb, userId: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, updated_at: new Date() }).where('id', '=', userId).execute();
}

export async function insertRefreshToken(db: TenantDb, values: { user_id: string; family_id: string; token_hash: string; expires_at: Date }): Promise<void> {
  await db.insertInto('refresh_tokens').values(values).execute();
}

/** Locks the row, so two concurrent refreshes of one token cannot both succeed. */
export async function findRefreshTokenForUpdate(db: TenantDb, tokenHash: string): Promise<RefreshToken | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).forUpdate().executeTakeFirst();
}

export async function markRefreshTokenUsed(db: TenantDb, id: string): Promise<void> {
  await db.updateTable('refresh_tokens').set({ used_at: new Date() }).where('id', '=', id).execute();
}

export async function revokeRefreshFamily(db: TenantDb, familyId: string): Promise<number> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function revokeUserRefreshTokens(db: TenantDb, userId: string): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

export async function insertOneTimeToken(
  db: TenantDb,
  values: { user_id: string; purpose: OneTimeTokenPurpose; token_hash: string; expires_at: Date },
): Promise<void> {
  await db.insertInto('one_time_tokens').values(values).execute();
}

/**
 * Inserts a password-reset token for the user with this email and a password,
 * if there is one, and returns that user's email; the same statements either
 * way. The commit does not wait for the disk: otherwise only the transaction
 * that wrote a row would wait for the WAL flush, and the wait would tell that
 * the account exists. A token lost to a crash is simply requested again.
 */
export async function insertPasswordResetToken(
  db: TenantDb,
  email: string,
  values: { token_hash: string; expires_at: Date },
  { withoutPassword }: { withoutPassword: boolean },
): Promise<string | undefined> {
  await sql`set local synchronous_commit = off`.execute(db);
  let account = db
    .selectFrom('users')
    .select((eb) => ['id', eb.val('password_reset').as('purpose'), eb.val(values.token_hash).as('token_hash'), eb.val(values.expires_at).as('expires_at')])
    .where(sql`lower(email)`, '=', email.toLowerCase());
  if (!withoutPassword) account = account.where('password_hash', 'is not', null);
  const row = await db
    .insertInto('one_time_tokens')
    .columns(['user_id', 'purpose', 'token_hash', 'expires_at'])
    .expression(account)
    .returning((eb) => eb.selectFrom('users').select('users.email').whereRef('users.id', '=', 'one_time_tokens.user_id').as('email'))
    .executeTakeFirst();
  return row?.email ?? undefined;
}

/** The unused, unexpired token with this hash and purpose, locked for the caller's transaction. */
export async function takeOneTimeToken(db: TenantDb, tokenHash: string, purpose: OneTimeTokenPurpose): Promise<{ id: string; user_id: string } | undefined> {
  return db
    .selectFrom('one_time_tokens')
    .select(['id', 'user_id'])
    .where('token_hash', '=', tokenHash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .forUpdate()
    .executeTakeFirst();
}

export async function markOneTimeTokenUsed(db: TenantDb, id: string): Promise<void> {
  await db.updateTable('one_time_tokens').set({ used_at: new Date() }).where('id', '=', id).execute();
}
