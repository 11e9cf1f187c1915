import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKeys } from '../../../src/control/settings/settings-cipher.js';
import { listTenantSettings, revealTenantSetting, setTenantSetting } from '../../../src/control/settings/tenant-settings.service.js';
import { cloneTenant } from '../../../src/control/transfer/tenant-clone.service.js';
import { importTenant } from '../../../src/control/transfer/tenant-import.service.js';
import { findTenantBySlug } from '../../../src/control/registry/tenant.repository.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import type { Template } from '../../../src/migrations/template.js';
import { exportText, textStream } from '../../helpers/tenant-contents.js';
import { openTestDatabase, seedTenant, tenantTemplate, uniqueSlug } from '../../helpers/test-database.js';

const keys = MasterKeys.fromKeys(randomBytes(32));
const SECRET = 'sk_live_transfer_0123456789';

describe('settings in export, import and clone', () => {
  let database: Database;
  let template: Template;
  let source: Tenant;
  beforeAll(async () => {
    database = await openTestDatabase();
    template = await tenantTemplate();
    source = await seedTenant(database, template, 'set_tr');
    await setTenantSetting(database, keys, source.slug, { key: 'payments.key', value: SECRET, secret: true });
    await setTenantSetting(database, keys, source.slug, { key: 'theme', value: 'dark', secret: false });
  });
  afterAll(() => database.close());

  const wrappedKey = async (tenantId: string) =>
    (await sql<{ wrapped_key: Buffer }>`SELECT wrapped_key FROM control.tenant_data_keys WHERE tenant_id = ${tenantId}`.execute(database.control)).rows[0]?.wrapped_key;

  it('carries a secret sealed, never in clear, and the import seals it anew under a key of its own', async () => {
    const text = await exportText(database, source.slug);
    expect(text).not.toContain(SECRET);
    expect(text).toContain('"setting":"theme","secret":false,"value":"dark"');
    expect(text).toContain('"setting":"payments.key","secret":true,"sealed":');
    expect(JSON.parse(text.trimEnd().split('\n').at(-1)!)).toMatchObject({ settings: 2 });

    const imported = await importTenant(database, template, textStream(text), { slug: uniqueSlug('set_imp'), settingsKeys: keys });
    expect(imported.settings).toBe(2);
    const copy = imported.tenant;
    expect(await listTenantSettings(database, copy.slug)).toMatchObject([
      { key: 'payments.key', secret: true, value: null },
      { key: 'theme', secret: false, value: 'dark' },
    ]);
    expect(await revealTenantSetting(database, keys, copy.slug, 'payments.key', 'test')).toBe(SECRET);
    // Its own data key: the source's wrapped key is not reused.
    expect((await wrappedKey(copy.id))!.equals((await wrappedKey(source.id))!)).toBe(false);
  });

  it('refuses the whole import, creating nothing, where the master key that wrapped the secrets is missing or a sealed value was altered', async () => {
    const text = await exportText(database, source.slug);
    const slug = uniqueSlug('set_nokey');
    await expect(importTenant(database, template, textStream(text), { slug, settingsKeys: MasterKeys.fromKeys(randomBytes(32)) })).rejects.toMatchObject({
      code: 'SETTINGS_KEY_UNAVAILABLE',
    });
    await expect(importTenant(database, template, textStream(text), { slug })).rejects.toMatchObject({ code: 'SETTINGS_KEY_UNAVAILABLE' });
    const altered = text.replace(/("sealed":")([A-Za-z0-9+/])/, (_m, prefix: string, c: string) => `${prefix}${c === 'A' ? 'B' : 'A'}`);
    expect(altered).not.toBe(text);
    await expect(importTenant(database, template, textStream(altered), { slug, settingsKeys: keys })).rejects.toMatchObject({ code: 'SETTINGS_TAMPERED' });
    expect(await findTenantBySlug(database.control, slug)).toBeUndefined();

    // A cut file that lost a setting line is told apart from a tenant without settings.
    const lines = text.trimEnd().split('\n');
    const cut = lines.filter((line) => !line.startsWith('{"setting":"theme"')).join('\n');
    await expect(importTenant(database, template, textStream(`${cut}\n`), { slug, settingsKeys: keys })).rejects.toMatchObject({ code: 'EXPORT_TRUNCATED' });
    expect(await findTenantBySlug(database.control, slug)).toBeUndefined();
  });

  it('leaves secrets out of an export without credentials, keeping the plain settings', async () => {
    const text = await exportText(database, source.slug, { withoutCredentials: true });
    expect(text).not.toContain('payments.key');
    expect(text).not.toContain('"dataKey"');
    const imported = await importTenant(database, template, textStream(text), { slug: uniqueSlug('set_nocred') });
    expect(await listTenantSettings(database, imported.tenant.slug)).toMatchObject([{ key: 'theme', value: 'dark' }]);
  });

  it('clones settings with the secrets sealed under the copy’s own data key', async () => {
    const cloned = await cloneTenant(database, template, source.slug, { slug: uniqueSlug('set_cln'), settingsKeys: keys });
    expect(cloned.settings).toBe(2);
    expect(await revealTenantSetting(database, keys, cloned.tenant.slug, 'payments.key', 'test')).toBe(SECRET);
    expect((await wrappedKey(cloned.tenant.id))!.equals((await wrappedKey(source.id))!)).toBe(false);
    // Without the master key a tenant with secrets is not cloned at all.
    const slug = uniqueSlug('set_cln_nokey');
    await expect(cloneTenant(database, template, source.slug, { slug })).rejects.toMatchObject({ code: 'SETTINGS_KEY_UNAVAILABLE' });
    expect(await findTenantBySlug(database.control, slug)).toBeUndefined();
  });
});
