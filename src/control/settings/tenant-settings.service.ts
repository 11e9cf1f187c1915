import type { Kysely } from 'kysely';
import type { ControlDatabase, Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { isSchemataError, SchemataError } from '../../errors.js';
import { lockTenantSettings } from '../../db/schema-locks.js';
import { getTenant } from '../tenants/tenant.service.js';
import { newDataKey, open, seal, settingPlace, type MasterKeys } from './settings-cipher.js';
import {
  countDataKeysByMasterKey,
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
 * kept wrapped by the master key (settings-cipher.ts). Everything that
 * writes a setting or reads a secret first takes the tenant's settings lock
 * (schema-locks.ts) in its transaction, so a rotation, a delete, a reveal and
 * a set never interleave: no deleted secret comes back, no reveal meets a
 * ciphertext and a key from two sides of a rotation, and the checks of a set
 * (secret stays secret, the 200 limit) hold until it commits.
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

export function validateSettingValue(value: string): string {
  if (Buffer.byteLength(value, 'utf8') > MAX_SETTING_VALUE_BYTES) {
    throw new SchemataError('INVALID_SETTING', `a setting's value is at most ${MAX_SETTING_VALUE_BYTES} bytes`, { field: 'value' });
  }
  // PostgreSQL's text cannot hold it; said here, with a code, rather than as the database's refusal.
  if (value.includes('\0')) throw new SchemataError('INVALID_SETTING', "a setting's value cannot contain a NUL character", { field: 'value' });
  return value;
}

export function validateSettingKey(key: string): string {
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
  const key = validateSettingKey(input.key);
  validateSettingValue(input.value);
  const tenant = await getTenant(database, slug);
  return database.control.transaction().execute(async (trx) => {
    await lockTenantSettings(trx, tenant.id);
    const existing = await findSetting(trx, tenant.id, key);
    if (existing?.secret && !input.secret) {
      throw new SchemataError('SETTING_IS_SECRET', `setting "${key}" of tenant "${tenant.slug}" is secret: delete it first to store it in plain text`, { key });
    }
    if (!existing && (await countSettings(trx, tenant.id)) >= MAX_SETTINGS_PER_TENANT) {
      throw new SchemataError('INVALID_SETTING', `tenant "${tenant.slug}" already has ${MAX_SETTINGS_PER_TENANT} settings, the most a tenant may hold`);
    }
    const dataKey = input.secret ? await dataKeyFor(trx, keys, tenant.id, true) : undefined;
    const stored = dataKey
      ? { key, secret: true, value: null, ciphertext: seal(dataKey, Buffer.from(input.value, 'utf8'), settingPlace(tenant.id, key)) }
      : { key, secret: false, value: input.value, ciphertext: null };
    await upsertSetting(trx, tenant.id, stored);
    return view((await findSetting(trx, tenant.id, key))!);
  });
}

export async function deleteTenantSetting(database: Database, slug: string, keyInput: string): Promise<void> {
  const key = validateSettingKey(keyInput);
  const tenant = await getTenant(database, slug);
  await database.control.transaction().execute(async (trx) => {
    await lockTenantSettings(trx, tenant.id);
    if (!(await deleteSetting(trx, tenant.id, key))) throw settingNotFound(tenant, key);
  });
}

/** A setting's value in clear, for a platform admin; a secret's reveal is recorded (who, which key, when) in the same transaction. */
export async function revealTenantSetting(
  database: Database,
  keys: MasterKeys,
  slug: string,
  keyInput: string,
  revealedBy: string,
): Promise<{ value: string; recorded: boolean }> {
  const key = validateSettingKey(keyInput);
  const tenant = await getTenant(database, slug);
  return database.control.transaction().execute(async (trx) => {
    await lockTenantSettings(trx, tenant.id);
    const setting = await findSetting(trx, tenant.id, key);
    if (!setting) throw settingNotFound(tenant, key);
    if (!setting.secret) return { value: setting.value!, recorded: false };
    const dataKey = await dataKeyFor(trx, keys, tenant.id, false);
    if (!dataKey) throw new SchemataError('SETTINGS_TAMPERED', `tenant "${tenant.slug}" has a secret but no data key: the key row was removed; set the secret again`);
    const value = openSetting(dataKey, tenant.id, setting).toString('utf8');
    await recordReveal(trx, tenant.id, key, revealedBy);
    return { value, recorded: true };
  });
}

/** A new data key for the tenant: every secret is opened with the old one and sealed with the new, in one transaction. */
export async function rotateTenantDataKey(database: Database, keys: MasterKeys, slug: string): Promise<{ tenant: Tenant; rotated: boolean; secrets: number }> {
  const tenant = await getTenant(database, slug);
  return database.control.transaction().execute(async (trx) => {
    await lockTenantSettings(trx, tenant.id);
    const stored = await lockDataKey(trx, tenant.id);
    if (!stored) return { tenant, rotated: false, secrets: 0 };
    const oldKey = keys.unwrap(tenant.id, stored.masterKeyId, stored.wrappedKey);
    const nextKey = newDataKey();
    const secrets = (await listSettings(trx, tenant.id)).filter((s) => s.secret);
    for (const setting of secrets) {
      const plaintext = openSetting(oldKey, tenant.id, setting);
      await upsertSetting(trx, tenant.id, { key: setting.key, secret: true, value: null, ciphertext: seal(nextKey, plaintext, settingPlace(tenant.id, setting.key)) });
    }
    const wrapped = keys.wrap(tenant.id, nextKey);
    await replaceDataKey(trx, tenant.id, stored, { masterKeyId: wrapped.masterKeyId, wrappedKey: wrapped.wrapped });
    return { tenant, rotated: true, secrets: secrets.length };
  });
}

export interface RewrapSummary {
  readonly rewrapped: number;
  /** Data keys that did not unwrap (their master key is not configured, or the row was altered): left as they were. */
  readonly failed: readonly { readonly slug: string; readonly code: string; readonly message: string }[];
  /**
   * Data keys still wrapped by another master key when the run ended: the
   * failed ones, and any a process still on an older key wrapped meanwhile.
   * Only at 0 may the previous master keys be removed.
   */
  readonly remaining: number;
  readonly masterKeyId: string;
}

/**
 * Master key rotation without downtime: run every server with the new key as
 * SETTINGS_MASTER_KEY and the old one in SETTINGS_PREVIOUS_MASTER_KEYS, run
 * this, then drop the old key. Each data key is unwrapped with whichever key
 * wrapped it and wrapped with the current one, row by row; the secrets
 * themselves are not touched, and servers keep reading them throughout. A
 * row that does not unwrap is reported and left alone, never the end of the
 * run. Passes repeat while they still re-wrap something: a row another
 * process rotated or created meanwhile (perhaps under the old key) is met
 * again, and `remaining` counts what is left at the end.
 */
export async function rewrapDataKeys(db: Db, keys: MasterKeys, onProgress?: (done: number, failed: number) => void): Promise<RewrapSummary> {
  const current = keys.wrapping();
  let rewrapped = 0;
  let failed = new Map<string, { slug: string; code: string; message: string }>();
  for (let pass = 0; pass < 5; pass++) {
    const before = rewrapped;
    failed = new Map();
    let after: string | undefined;
    for (;;) {
      const page = await listDataKeysNotWrappedBy(db, current.id, after, 500);
      if (page.length === 0) break;
      for (const row of page) {
        try {
          const wrapped = keys.wrap(row.tenantId, keys.unwrap(row.tenantId, row.masterKeyId, row.wrappedKey));
          if (await replaceDataKey(db, row.tenantId, row, { masterKeyId: wrapped.masterKeyId, wrappedKey: wrapped.wrapped })) rewrapped++;
        } catch (error) {
          if (!isSchemataError(error)) throw error;
          failed.set(row.tenantId, { slug: row.slug, code: error.code, message: error.message });
        }
        onProgress?.(rewrapped + failed.size, failed.size);
      }
      after = page.at(-1)!.tenantId;
    }
    if (rewrapped === before) break;
  }
  const remaining = (await countDataKeysByMasterKey(db)).filter((k) => k.masterKeyId !== current.id).reduce((n, k) => n + k.tenants, 0);
  return { rewrapped, failed: [...failed.values()], remaining, masterKeyId: current.id };
}

/**
 * The tenant's data key in clear (the caller holds the settings lock, so it
 * cannot change until `trx` ends); made and stored (wrapped) when `create`
 * and there is none yet.
 */
async function dataKeyFor(trx: Db, keys: MasterKeys, tenantId: string, create: boolean): Promise<Buffer | undefined> {
  const stored = await lockDataKey(trx, tenantId);
  if (stored) return keys.unwrap(tenantId, stored.masterKeyId, stored.wrappedKey);
  if (!create) return undefined;
  const dataKey = newDataKey();
  const wrapped = keys.wrap(tenantId, dataKey);
  // A rewrap needs no settings lock (it only re-wraps); a conflict here means the row appeared anyway: use it.
  if (await insertDataKey(trx, tenantId, { masterKeyId: wrapped.masterKeyId, wrappedKey: wrapped.wrapped })) return dataKey;
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
  await lockTenantSettings(trx, tenantId);
  const targetKey = secrets.length > 0 ? await dataKeyFor(trx, keys, tenantId, true) : undefined;
  if (bundle.settings.length > MAX_SETTINGS_PER_TENANT) throw new SchemataError('INVALID_SETTING', `${bundle.settings.length} settings, more than the ${MAX_SETTINGS_PER_TENANT} a tenant may hold`);
  for (const setting of bundle.settings) {
    validateSettingKey(setting.key);
    if (!setting.secret) validateSettingValue(setting.value!);
    const ciphertext = setting.secret ? seal(targetKey!, openSetting(sourceKey!, bundle.tenantId, setting), settingPlace(tenantId, setting.key)) : null;
    await upsertSetting(trx, tenantId, { key: setting.key, secret: setting.secret, value: setting.secret ? null : setting.value, ciphertext });
  }
  return bundle.settings.length;
}
