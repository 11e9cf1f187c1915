import { sql, type Kysely } from 'kysely';
import type { ControlDatabase } from '../../db/control-database.js';

type Db = Kysely<ControlDatabase>;

export interface StoredSetting {
  readonly key: string;
  readonly secret: boolean;
  /** Null for a secret. */
  readonly value: string | null;
  /** Null for a plain setting. */
  readonly ciphertext: Buffer | null;
  readonly updatedAt: Date;
}

export interface StoredDataKey {
  readonly masterKeyId: string;
  readonly wrappedKey: Buffer;
}

export async function listSettings(db: Db, tenantId: string): Promise<StoredSetting[]> {
  return db
    .selectFrom('control.tenant_settings')
    .select(['key', 'secret', 'value', 'ciphertext', 'updated_at as updatedAt'])
    .where('tenant_id', '=', tenantId)
    .orderBy('key')
    .execute();
}

/** Plain settings only: what a tenant's own admin may read. */
export async function listPlainSettings(db: Db, tenantId: string): Promise<{ key: string; value: string }[]> {
  const rows = await db.selectFrom('control.tenant_settings').select(['key', 'value']).where('tenant_id', '=', tenantId).where('secret', '=', false).orderBy('key').execute();
  return rows.map((row) => ({ key: row.key, value: row.value! }));
}

export async function findSetting(db: Db, tenantId: string, key: string): Promise<StoredSetting | undefined> {
  return db
    .selectFrom('control.tenant_settings')
    .select(['key', 'secret', 'value', 'ciphertext', 'updated_at as updatedAt'])
    .where('tenant_id', '=', tenantId)
    .where('key', '=', key)
    .executeTakeFirst();
}

export async function countSettings(db: Db, tenantId: string): Promise<number> {
  const row = await db.selectFrom('control.tenant_settings').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function upsertSetting(db: Db, tenantId: string, setting: { key: string; secret: boolean; value: string | null; ciphertext: Buffer | null }): Promise<void> {
  await db
    .insertInto('control.tenant_settings')
    .values({ tenant_id: tenantId, ...setting })
    .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ secret: setting.secret, value: setting.value, ciphertext: setting.ciphertext, updated_at: sql`now()` }))
    .execute();
}

export async function deleteSetting(db: Db, tenantId: string, key: string): Promise<boolean> {
  const result = await db.deleteFrom('control.tenant_settings').where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The tenant's data key, locked until the transaction ends: a rotation and a write of a secret never interleave. */
export async function lockDataKey(db: Db, tenantId: string): Promise<StoredDataKey | undefined> {
  return db
    .selectFrom('control.tenant_data_keys')
    .select(['master_key_id as masterKeyId', 'wrapped_key as wrappedKey'])
    .where('tenant_id', '=', tenantId)
    .forUpdate()
    .executeTakeFirst();
}

export async function findDataKey(db: Db, tenantId: string): Promise<StoredDataKey | undefined> {
  return db.selectFrom('control.tenant_data_keys').select(['master_key_id as masterKeyId', 'wrapped_key as wrappedKey']).where('tenant_id', '=', tenantId).executeTakeFirst();
}

/** False when another transaction stored one first (then lock and use that one). */
export async function insertDataKey(db: Db, tenantId: string, key: StoredDataKey): Promise<boolean> {
  const inserted = await db
    .insertInto('control.tenant_data_keys')
    .values({ tenant_id: tenantId, master_key_id: key.masterKeyId, wrapped_key: key.wrappedKey })
    .onConflict((oc) => oc.column('tenant_id').doNothing())
    .returning('tenant_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Replaces the wrapping only if it is still `from`: a concurrent re-wrap or rotation wins, and this one skips the row. */
export async function replaceDataKey(db: Db, tenantId: string, from: StoredDataKey, to: StoredDataKey): Promise<boolean> {
  const result = await db
    .updateTable('control.tenant_data_keys')
    .set({ master_key_id: to.masterKeyId, wrapped_key: to.wrappedKey, wrapped_at: sql`now()` })
    .where('tenant_id', '=', tenantId)
    .where('master_key_id', '=', from.masterKeyId)
    .where('wrapped_key', '=', from.wrappedKey)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Data keys not wrapped by `masterKeyId`, a page at a time (by tenant id), for re-wrapping. */
export async function listDataKeysNotWrappedBy(
  db: Db,
  masterKeyId: string,
  after: string | undefined,
  limit: number,
): Promise<({ tenantId: string; slug: string } & StoredDataKey)[]> {
  let query = db
    .selectFrom('control.tenant_data_keys as k')
    .innerJoin('control.tenants as t', 't.id', 'k.tenant_id')
    .select(['k.tenant_id as tenantId', 't.slug', 'k.master_key_id as masterKeyId', 'k.wrapped_key as wrappedKey'])
    .where('k.master_key_id', '<>', masterKeyId)
    .orderBy('k.tenant_id')
    .limit(limit);
  if (after !== undefined) query = query.where('k.tenant_id', '>', after);
  return query.execute();
}

export async function countDataKeysByMasterKey(db: Db): Promise<{ masterKeyId: string; tenants: number }[]> {
  const rows = await db
    .selectFrom('control.tenant_data_keys')
    .select(['master_key_id as masterKeyId', (eb) => eb.fn.countAll<string>().as('tenants')])
    .groupBy('master_key_id')
    .orderBy('master_key_id')
    .execute();
  return rows.map((row) => ({ masterKeyId: row.masterKeyId, tenants: Number(row.tenants) }));
}

export async function recordReveal(db: Db, tenantId: string, key: string, revealedBy: string): Promise<void> {
  await db.insertInto('control.tenant_setting_reveals').values({ tenant_id: tenantId, key, revealed_by: revealedBy }).execute();
}

export interface SettingReveal {
  readonly key: string;
  readonly revealedBy: string;
  readonly revealedAt: Date;
}

export async function listReveals(db: Db, tenantId: string, limit: number): Promise<SettingReveal[]> {
  return db
    .selectFrom('control.tenant_setting_reveals')
    .select(['key', 'revealed_by as revealedBy', 'revealed_at as revealedAt'])
    .where('tenant_id', '=', tenantId)
    .orderBy('revealed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
