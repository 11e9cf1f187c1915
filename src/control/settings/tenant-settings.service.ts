import type { Kysely } from 'kysely';
import type { ControlDatabase, Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { isSchemataError, SchemataError } from '../../errors.js';
import { getTenant } from '../tenants/tenant.service.js';
import { newDataKey, open, seal, settingPlace, type MasterKeys } from './settings-cipher.js';
import {
  countSettings,
  deleteSetting,
  findDataKey,
  findSetting,
  insertDataKey,
  listDataKeysNotWrappedBy,
  listSettings,
  lockDataKey,
  recordReveal,
  replaceDataKey,
  upsertSetting,
  type StoredDataKey,
  type StoredSetting,
} from './tenant-settings.repository.js';

type Db = Kysely<ControlDatabase>;

/*
 * A tenant's settings live in the control plane, never in the tenant's schema:
 * the tenant's own role cannot read a secret's ciphertext, let alone its key.
 * A secret is sealed under the tenant's data key, made on its first secret and
 * kept wrapped by the master key (settings-cipher.ts). Every change runs in
 * one transaction holding the data key's row lock, so a rotation never meets
 * a half-written secret.
 */

export const SETTING_KEY_SHAPE = /^[a-z][a-z0-9_.-]{0,62}$/;
export const MAX_SETTING_VALUE_BYTES = 8192;
export const MAX_SETTINGS_PER_TENANT = 200;

/** A setting as listings show it: a secret's value never leaves unless revealed. */
export interface SettingView {
  readonly key: string;
  readonly secret: boolean;
  /** Null for a secret. */
  readonly value: string | null;
  readonly updatedAt: Date;
}

export interface SetSettingInput {
  readonly key: string;
  readonly value: string;
  readonly secret: boolean;
}

function validateValue(value: string): string {
  if (Buffer.byteLength(value, 'utf8') > MAX_SETTING_VALUE_BYTES) {
    throw new SchemataError('INVALID_SETTING', `a setting's value is at most ${MAX_SETTING_VALUE_BYTES} bytes`, { field: 'value' });
  }
  return value;
}

function validateKey(key: string): string {
  if (!SETTING_KEY_SHAPE.test(key)) {
    throw new SchemataError('INVALID_SETTING', 'a setting key is 1 to 63 characters: a lowercase letter, then lowercase letters, digits, "_", "." or "-"', { field: 'key' });
  }
  return key;
}

function view(setting: StoredSetting): SettingView {
  return { key: setting.key, secret: setting.secret, value: setting.secret ? null : setting.value, updatedAt: setting.updatedAt };
}

function settingNotFound(tenant: Tenant, key: string): SchemataError {
  return new SchemataError('SETTING_NOT_FOUND', `tenant "${tenant.slug}" has no setting "${key}"`, { slug: tenant.slug, key });
}

export async function listTenantSettings(database: Database, slug: string): Promise<SettingView[]> {
  const tenant = await getTenant(database, slug);
  return tenantSettingViews(database.control, tenant.id);
}

export async function tenantSettingViews(db: Db, tenantId: string): Promise<SettingView[]> {
  return (await listSettings(db, tenantId)).map(view);
}

/** Creates or replaces a setting. A secret stays secret: turning it plain means deleting it first, so no secret is ever written back in clear by mistake. */
export async function setTenantSetting(database: Database, keys: MasterKeys, slug: string, input: SetSettingInput): Promise<SettingView> {
  const key = validateKey(input.key);
  validateValue(input.value);
  const tenant = await getTenant(database, slug);
  return database.control.transaction().execute(async (trx) => {
    // Taken first by every writer of this tenant's settings, so the checks below hold until commit.
    const dataKey = await dataKeyFor(trx, keys, tenant.id, input.secret);
    const existing = await findSetting(trx, tenant.id, key);
    if (existing?.secret && !input.secret) {
      throw new SchemataError('SETTING_IS_SECRET', `setting "${key}" of tenant "${tenant.slug}" is secret: delete it first to store it in plain text`, { key });
    }
    if (!existing && (await countSettings(trx, tenant.id)) >= MAX_SETTINGS_PER_TENANT) {
      throw new SchemataError('INVALID_SETTING', `tenant "${tenant.slug}" already has ${MAX_SETTINGS_PER_TENANT} settings, the most a tenant may hold`);
    }
    const stored = input.secret
      ? { key, secret: true, value: null, ciphertext: seal(dataKey!, Buffer.from(input.value, 'utf8'), settingPlace(tenant.id, key)) }
      : { key, secret: false, value: input.value, ciphertext: null };
    await upsertSetting(trx, tenant.id, stored);
    return view((await findSetting(trx, tenant.id, key))!);
  });
}

export async function deleteTenantSetting(database: Database, slug: string, keyInput: string): Promise<void> {
  const key = validateKey(keyInput);
  const tenant = await getTenant(database, slug);
  if (!(await deleteSetting(database.control, tenant.id, key))) throw settingNotFound(tenant, key);
}

/** A secret's value in clear, for a platform admin; the reveal is recorded (who, which key, when) in the same transaction. */
export async function revealTenantSetting(database: Database, keys: MasterKeys, slug: string, keyInput: string, revealedBy: string): Promise<string> {
  const key = validateKey(keyInput);
  const tenant = await getTenant(database, slug);
  return database.control.transaction().execute(async (trx) => {
    const setting = await findSetting(trx, tenant.id, key);
    if (!setting) throw settingNotFound(tenant, key);
    if (!setting.secret) return setting.value!;
    const dataKey = await dataKeyFor(trx, keys, tenant.id, false);
    if (!dataKey) throw new SchemataError('SETTINGS_TAMPERED', `tenant "${tenant.slug}" has a secret but no data key: the key row was removed; set the secret again`);
    const value = openSetting(dataKey, tenant.id, setting).toString('utf8');
    await recordReveal(trx, tenant.id, key, revealedBy);
    return value;
  });
}

/** A new data key for the tenant: every secret is opened with the old one and sealed with the new, in one transaction. */
export async function rotateTenantDataKey(database: Database, keys: MasterKeys, slug: string): Promise<{ tenant: Tenant; secrets: number }> {
  const tenant = await getTenant(database, slug);
  return database.control.transaction().execute(async (trx) => {
    const stored = await lockDataKey(trx, tenant.id);
    if (!stored) return { tenant, secrets: 0 };
    const oldKey = keys.unwrap(tenant.id, stored.masterKeyId, stored.wrappedKey);
    const nextKey = newDataKey();
    const secrets = (await listSettings(trx, tenant.id)).filter((s) => s.secret);
    for (const setting of secrets) {
      const plaintext = openSetting(oldKey, tenant.id, setting);
      await upsertSetting(trx, tenant.id, { key: setting.key, secret: true, value: null, ciphertext: seal(nextKey, plaintext, settingPlace(tenant.id, setting.key)) });
    }
    const wrapped = keys.wrap(tenant.id, nextKey);
    await replaceDataKey(trx, tenant.id, stored, { masterKeyId: wrapped.masterKeyId, wrappedKey: wrapped.wrapped });
    return { tenant, secrets: secrets.length };
  });
}

export interface RewrapSummary {
  readonly rewrapped: number;
  /** Changed by another process between the read and the write (a rotation): already wrapped anew, left alone. */
  readonly skipped: number;
  /** Data keys that did not unwrap (their master key is not configured, or the row was altered): left as they were. */
  readonly failed: readonly { readonly slug: string; readonly code: string; readonly message: string }[];
  readonly masterKeyId: string;
}

/**
 * Master key rotation without downtime: run every server with the new key as
 * SETTINGS_MASTER_KEY and the old one in SETTINGS_PREVIOUS_MASTER_KEYS, run
 * this, then drop the old key. Each data key is unwrapped with whichever key
 * wrapped it and wrapped with the current one, row by row; the secrets
 * themselves are not touched, and servers keep reading them throughout. A
 * row that does not unwrap is reported and left alone, never the end of the run.
 */
export async function rewrapDataKeys(db: Db, keys: MasterKeys, onProgress?: (done: number, failed: number) => void): Promise<RewrapSummary> {
  const current = keys.wrapping();
  let rewrapped = 0;
  let skipped = 0;
  const failed: { slug: string; code: string; message: string }[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listDataKeysNotWrappedBy(db, current.id, after, 500);
    if (page.length === 0) break;
    for (const row of page) {
      let dataKey: Buffer;
      try {
        dataKey = keys.unwrap(row.tenantId, row.masterKeyId, row.wrappedKey);
      } catch (error) {
        if (!isSchemataError(error)) throw error;
        failed.push({ slug: row.slug, code: error.code, message: error.message });
        onProgress?.(rewrapped + skipped + failed.length, failed.length);
        continue;
      }
      const wrapped = keys.wrap(row.tenantId, dataKey);
      if (await replaceDataKey(db, row.tenantId, row, { masterKeyId: wrapped.masterKeyId, wrappedKey: wrapped.wrapped })) rewrapped++;
      else skipped++;
      onProgress?.(rewrapped + skipped + failed.length, failed.length);
    }
    after = page.at(-1)!.tenantId;
  }
  return { rewrapped, skipped, failed, masterKeyId: current.id };
}

/**
 * The tenant's data key in clear, its row locked until `trx` ends; made and
 * stored (wrapped) when `create` and there is none yet.
 */
async function dataKeyFor(trx: Db, keys: MasterKeys, tenantId: string, create: boolean): Promise<Buffer | undefined> {
  const stored = await lockDataKey(trx, tenantId);
  if (stored) return keys.unwrap(tenantId, stored.masterKeyId, stored.wrappedKey);
  if (!create) return undefined;
  const dataKey = newDataKey();
  const wrapped = keys.wrap(tenantId, dataKey);
  if (await insertDataKey(trx, tenantId, { masterKeyId: wrapped.masterKeyId, wrappedKey: wrapped.wrapped })) return dataKey;
  // Another transaction stored the tenant's first key meanwhile: use that one.
  return dataKeyFor(trx, keys, tenantId, false);
}

function openSetting(dataKey: Buffer, tenantId: string, setting: StoredSetting): Buffer {
  return open(dataKey, setting.ciphertext!, settingPlace(tenantId, setting.key), `secret setting "${setting.key}"`);
}

/** A tenant's settings as an export or a clone carries them: plain values, and secrets only sealed, with the data key wrapped. */
export interface SettingsBundle {
  readonly tenantId: string;
  readonly dataKey: StoredDataKey | undefined;
  readonly settings: readonly StoredSetting[];
}

export async function readSettingsBundle(db: Db, tenantId: string, options: { withoutSecrets?: boolean } = {}): Promise<SettingsBundle> {
  const settings = (await listSettings(db, tenantId)).filter((s) => !(options.withoutSecrets && s.secret));
  const dataKey = settings.some((s) => s.secret) ? await findDataKey(db, tenantId) : undefined;
  return { tenantId, dataKey, settings };
}

/**
 * Writes a bundle's settings to another tenant (an import, a clone): secrets
 * are opened with the source's data key and sealed anew under the target's
 * own, so no two tenants ever share a key. Needs the master key that wrapped
 * the source's data key (SETTINGS_KEY_UNAVAILABLE otherwise, and `trx` rolls back).
 */
export async function writeSettingsBundle(trx: Db, keys: MasterKeys, bundle: SettingsBundle, tenantId: string): Promise<number> {
  const secrets = bundle.settings.filter((s) => s.secret);
  let sourceKey: Buffer | undefined;
  if (secrets.length > 0) {
    if (!bundle.dataKey) throw new SchemataError('SETTINGS_TAMPERED', 'the settings carry secrets but no data key to open them');
    sourceKey = keys.unwrap(bundle.tenantId, bundle.dataKey.masterKeyId, bundle.dataKey.wrappedKey);
  }
  const targetKey = secrets.length > 0 ? await dataKeyFor(trx, keys, tenantId, true) : undefined;
  if (bundle.settings.length > MAX_SETTINGS_PER_TENANT) throw new SchemataError('INVALID_SETTING', `${bundle.settings.length} settings, more than the ${MAX_SETTINGS_PER_TENANT} a tenant may hold`);
  for (const setting of bundle.settings) {
    validateKey(setting.key);
    if (!setting.secret) validateValue(setting.value!);
    const ciphertext = setting.secret ? seal(targetKey!, openSetting(sourceKey!, bundle.tenantId, setting), settingPlace(tenantId, setting.key)) : null;
    await upsertSetting(trx, tenantId, { key: setting.key, secret: setting.secret, value: setting.secret ? null : setting.value, ciphertext });
  }
  return bundle.settings.length;
}
