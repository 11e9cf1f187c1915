import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKeys, NO_MASTER_KEYS } from '../../../src/control/settings/settings-cipher.js';
import { listReveals } from '../../../src/control/settings/tenant-settings.repository.js';
import {
  deleteTenantSetting,
  listTenantSettings,
  revealTenantSetting,
  rewrapDataKeys,
  rotateTenantDataKey,
  setTenantSetting,
} from '../../../src/control/settings/tenant-settings.service.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import type { Template } from '../../../src/migrations/template.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';

/** The revealed value alone. */
const revealed = async (...args: Parameters<typeof revealTenantSetting>) => (await revealTenantSetting(...args)).value;
const keyA = randomBytes(32);
const keyB = randomBytes(32);
const onlyA = MasterKeys.fromKeys(keyA);

describe('tenant settings', () => {
  let database: Database;
  let template: Template;
  beforeAll(async () => {
    database = await openTestDatabase();
    template = await tenantTemplate();
  });
  afterAll(() => database.close());

  const stored = async (tenant: Tenant) =>
    (
      await sql<{ key: string; secret: boolean; value: string | null; ciphertext: Buffer | null }>`
        SELECT key, secret, value, ciphertext FROM control.tenant_settings WHERE tenant_id = ${tenant.id} ORDER BY key`.execute(database.control)
    ).rows;
  const dataKeyRow = async (tenant: Tenant) =>
    (await sql<{ master_key_id: string; wrapped_key: Buffer }>`SELECT master_key_id, wrapped_key FROM control.tenant_data_keys WHERE tenant_id = ${tenant.id}`.execute(database.control))
      .rows[0];

  it('stores a secret only as ciphertext, different for equal values, lists it masked and reveals it with a record', async () => {
    const tenant = await seedTenant(database, template, 'set_enc');
    const value = 'sk_live_0123456789abcdef';
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'stripe.key', value, secret: true });
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'stripe.key_backup', value, secret: true });
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'beta_dashboard', value: 'on', secret: false });

    const rows = await stored(tenant);
    expect(rows.map((r) => [r.key, r.secret, r.value])).toEqual([
      ['beta_dashboard', false, 'on'],
      ['stripe.key', true, null],
      ['stripe.key_backup', true, null],
    ]);
    const [, first, second] = rows;
    // Equal values, different nonces: the table does not tell which secrets are equal.
    expect(first!.ciphertext!.equals(second!.ciphertext!)).toBe(false);
    for (const row of rows.slice(1)) expect(row.ciphertext!.includes(Buffer.from(value))).toBe(false);
    // Nor does the data key appear in clear: it is stored wrapped, named by the master key's id.
    expect((await dataKeyRow(tenant))!.master_key_id).toBe(onlyA.current!.id);

    expect(await listTenantSettings(database, tenant.slug)).toMatchObject([
      { key: 'beta_dashboard', secret: false, value: 'on' },
      { key: 'stripe.key', secret: true, value: null },
      { key: 'stripe.key_backup', secret: true, value: null },
    ]);
    expect(await revealed(database, onlyA, tenant.slug, 'stripe.key', 'test:operator')).toBe(value);
    expect(await listReveals(database.control, tenant.id, 10)).toMatchObject([{ key: 'stripe.key', revealedBy: 'test:operator' }]);
  });

  it('fails loudly with a wrong master key, and refuses tampered, swapped or re-labelled ciphertext', async () => {
    const tenant = await seedTenant(database, template, 'set_bad');
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'webhook.secret', value: 'whsec_1', secret: true });
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'webhook.other', value: 'whsec_2', secret: true });
    const reveal = (keys: MasterKeys, key = 'webhook.secret') => revealed(database, keys, tenant.slug, key, 'test');

    const wrongKey = MasterKeys.fromKeys(keyB);
    await expect(reveal(wrongKey)).rejects.toMatchObject({ code: 'SETTINGS_KEY_UNAVAILABLE', message: expect.stringContaining(onlyA.current!.id) });
    await expect(reveal(NO_MASTER_KEYS)).rejects.toMatchObject({ code: 'SETTINGS_KEY_UNAVAILABLE' });
    // A wrong key under the right name (the id column edited) still does not open the data key.
    await sql`UPDATE control.tenant_data_keys SET master_key_id = ${wrongKey.current!.id} WHERE tenant_id = ${tenant.id}`.execute(database.control);
    await expect(reveal(MasterKeys.fromKeys(keyB, [keyA]))).rejects.toMatchObject({ code: 'SETTINGS_TAMPERED' });
    await sql`UPDATE control.tenant_data_keys SET master_key_id = ${onlyA.current!.id} WHERE tenant_id = ${tenant.id}`.execute(database.control);
    expect(await reveal(onlyA)).toBe('whsec_1');

    // One flipped byte of the ciphertext.
    await sql`UPDATE control.tenant_settings SET ciphertext = set_byte(ciphertext, 30, get_byte(ciphertext, 30) # 1)
              WHERE tenant_id = ${tenant.id} AND key = 'webhook.secret'`.execute(database.control);
    await expect(reveal(onlyA)).rejects.toMatchObject({ code: 'SETTINGS_TAMPERED', message: expect.not.stringContaining('whsec') });
    // Another row's intact ciphertext copied over: sealed to its own key, it does not open here.
    await sql`UPDATE control.tenant_settings SET ciphertext = (SELECT ciphertext FROM control.tenant_settings WHERE tenant_id = ${tenant.id} AND key = 'webhook.other')
              WHERE tenant_id = ${tenant.id} AND key = 'webhook.secret'`.execute(database.control);
    await expect(reveal(onlyA)).rejects.toMatchObject({ code: 'SETTINGS_TAMPERED' });
    expect(await reveal(onlyA, 'webhook.other')).toBe('whsec_2');
    // A failed reveal records nothing: only the two that returned a value are in the log.
    expect(await listReveals(database.control, tenant.id, 10)).toHaveLength(2);
  });

  it("does not open a secret copied from another tenant's row", async () => {
    const [one, two] = [await seedTenant(database, template, 'set_x1'), await seedTenant(database, template, 'set_x2')];
    await setTenantSetting(database, onlyA, one.slug, { key: 'api.token', value: 'one-token', secret: true });
    await setTenantSetting(database, onlyA, two.slug, { key: 'api.token', value: 'two-token', secret: true });
    // Both the data key and the ciphertext of tenant one, copied onto tenant two.
    await sql`UPDATE control.tenant_data_keys SET wrapped_key = (SELECT wrapped_key FROM control.tenant_data_keys WHERE tenant_id = ${one.id}) WHERE tenant_id = ${two.id}`.execute(database.control);
    await sql`UPDATE control.tenant_settings SET ciphertext = (SELECT ciphertext FROM control.tenant_settings WHERE tenant_id = ${one.id}) WHERE tenant_id = ${two.id}`.execute(database.control);
    await expect(revealTenantSetting(database, onlyA, two.slug, 'api.token', 'test')).rejects.toMatchObject({ code: 'SETTINGS_TAMPERED' });
    expect(await revealed(database, onlyA, one.slug, 'api.token', 'test')).toBe('one-token');
  });

  it("rotates a tenant's data key, re-encrypting every secret, and re-wraps data keys under a new master key without losing a read", async () => {
    const tenant = await seedTenant(database, template, 'set_rot');
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'smtp.password', value: 'p4ss', secret: true });
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'region', value: 'eu', secret: false });
    const before = { key: await dataKeyRow(tenant), rows: await stored(tenant) };

    expect((await rotateTenantDataKey(database, onlyA, tenant.slug)).secrets).toBe(1);
    const after = { key: await dataKeyRow(tenant), rows: await stored(tenant) };
    expect(after.key!.wrapped_key.equals(before.key!.wrapped_key)).toBe(false);
    expect(after.rows[1]!.ciphertext!.equals(before.rows[1]!.ciphertext!)).toBe(false);
    expect(after.rows[0]).toEqual(before.rows[0]);
    expect(await revealed(database, onlyA, tenant.slug, 'smtp.password', 'test')).toBe('p4ss');

    // Master key rotation: B becomes current, A stays as a previous key while the data keys are re-wrapped.
    const rotating = MasterKeys.fromKeys(keyB, [keyA]);
    expect(await revealed(database, rotating, tenant.slug, 'smtp.password', 'test')).toBe('p4ss');
    const summary = await rewrapDataKeys(database.control, rotating);
    expect(summary.masterKeyId).toBe(rotating.current!.id);
    expect(summary.rewrapped).toBeGreaterThanOrEqual(1);
    // Other tenants of this shared database were keyed by another master key (or tampered with above): reported, left alone, not the end of the run.
    for (const failure of summary.failed) expect(['SETTINGS_KEY_UNAVAILABLE', 'SETTINGS_TAMPERED']).toContain(failure.code);
    expect(summary.failed.map((f) => f.slug)).not.toContain(tenant.slug);
    expect((await dataKeyRow(tenant))!.master_key_id).toBe(rotating.current!.id);
    // The secrets themselves were not touched, and B alone now opens them; A alone no longer does.
    expect((await stored(tenant))[1]!.ciphertext).toEqual(after.rows[1]!.ciphertext);
    expect(await revealed(database, MasterKeys.fromKeys(keyB), tenant.slug, 'smtp.password', 'test')).toBe('p4ss');
    await expect(revealTenantSetting(database, onlyA, tenant.slug, 'smtp.password', 'test')).rejects.toMatchObject({ code: 'SETTINGS_KEY_UNAVAILABLE' });
    // Put back for the other tests' tenants, which share this database.
    await rewrapDataKeys(database.control, MasterKeys.fromKeys(keyA, [keyB]));
  });

  it('refuses bad input with coded errors and changes nothing', async () => {
    const tenant = await seedTenant(database, template, 'set_in');
    await setTenantSetting(database, onlyA, tenant.slug, { key: 'token', value: 'secret-1', secret: true });
    const refused = (promise: Promise<unknown>, code: string) => expect(promise).rejects.toMatchObject({ code });

    await refused(setTenantSetting(database, onlyA, tenant.slug, { key: 'Bad Key', value: 'x', secret: false }), 'INVALID_SETTING');
    await refused(setTenantSetting(database, onlyA, tenant.slug, { key: 'x'.repeat(64), value: 'x', secret: false }), 'INVALID_SETTING');
    await refused(setTenantSetting(database, onlyA, tenant.slug, { key: 'big', value: 'x'.repeat(8193), secret: false }), 'INVALID_SETTING');
    await refused(setTenantSetting(database, onlyA, tenant.slug, { key: 'nul', value: 'a\0b', secret: false }), 'INVALID_SETTING');
    // A secret is never written back in clear by a careless set.
    await refused(setTenantSetting(database, onlyA, tenant.slug, { key: 'token', value: 'secret-1', secret: false }), 'SETTING_IS_SECRET');
    await refused(deleteTenantSetting(database, tenant.slug, 'nothing'), 'SETTING_NOT_FOUND');
    await refused(listTenantSettings(database, 'no_such_tenant_here'), 'TENANT_NOT_FOUND');
    await refused(setTenantSetting(database, onlyA, 'x"; DROP SCHEMA control; --', { key: 'k', value: 'v', secret: false }), 'INVALID_SLUG');
    // Without a master key (production with none configured): plain settings work, secrets are refused.
    const plainOnly = await seedTenant(database, template, 'set_nokey');
    await setTenantSetting(database, NO_MASTER_KEYS, plainOnly.slug, { key: 'plain', value: 'yes', secret: false });
    await refused(setTenantSetting(database, NO_MASTER_KEYS, plainOnly.slug, { key: 'secret', value: 'no', secret: true }), 'SETTINGS_KEY_UNAVAILABLE');
    expect((await stored(plainOnly)).map((r) => r.key)).toEqual(['plain']);
    expect(await dataKeyRow(plainOnly)).toBeUndefined();

    expect(await stored(tenant)).toHaveLength(1);
    expect(await revealed(database, onlyA, tenant.slug, 'token', 'test')).toBe('secret-1');
  });

  it("makes one data key when a tenant's first secrets are written at once", async () => {
    const tenant = await seedTenant(database, template, 'set_race');
    await Promise.all(Array.from({ length: 8 }, (_, i) => setTenantSetting(database, onlyA, tenant.slug, { key: `s${i}`, value: `v${i}`, secret: true })));
    for (let i = 0; i < 8; i++) expect(await revealed(database, onlyA, tenant.slug, `s${i}`, 'test')).toBe(`v${i}`);
  });
});
