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

/** The revealed value alone. */
const revealed = async (...args: Parameters<typeof revealTenantSetting>) => (await revealTenantSetting(...args)).value;
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
    expect(await revealed(database, keys, copy.slug, 'payments.key', 'test')).toBe(SECRET);
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
    expect(await revealed(database, keys, cloned.tenant.slug, 'payments.key', 'test')).toBe(SECRET);
    expect((await wrappedKey(cloned.tenant.id))!.equals((await wrappedKey(source.id))!)).toBe(false);
    // Without the master key a tenant with secrets is not cloned at all.
    const slug = uniqueSlug('set_cln_nokey');
    await expect(cloneTenant(database, template, source.slug, { slug })).rejects.toMatchObject({ code: 'SETTINGS_KEY_UNAVAILABLE' });
    expect(await findTenantBySlug(database.control, slug)).toBeUndefined();
  });

  it('refuses hostile settings lines with INVALID_EXPORT, creating nothing', async () => {
    const text = await exportText(database, source.slug);
    const lines = text.trimEnd().split('\n');
    const trailerAt = lines.length - 1;
    const trailer = JSON.parse(lines[trailerAt]!) as Record<string, unknown>;
    const withLines = (extra: string[], settingsCount = (trailer.settings as number) + extra.filter((l) => l.startsWith('{"setting"')).length) =>
      [...lines.slice(0, trailerAt), ...extra, JSON.stringify({ ...trailer, settings: settingsCount })].join('\n') + '\n';
    const dataKeyLine = lines.find((line) => line.startsWith('{"dataKey"'))!;
    const cases: [string, string][] = [
      ['a second data key', withLines([dataKeyLine])],
      ['a data key for a tenant id that is no UUID', withLines([]).replace(dataKeyLine, dataKeyLine.replace(/"tenantId":"[^"]+"/, '"tenantId":"x; DROP"'))],
      ['a bad setting key', withLines(['{"setting":"Bad Key","secret":false,"value":"x"}'])],
      ['a value over 8 KiB', withLines([JSON.stringify({ setting: 'big', secret: false, value: 'x'.repeat(8193) })])],
      ['a NUL in a value', withLines([JSON.stringify({ setting: 'nul', secret: false, value: 'a\u0000b' })])],
      ['a setting twice', withLines(['{"setting":"theme","secret":false,"value":"light"}'])],
      ['a sealed value past any value\'s size', withLines([JSON.stringify({ setting: 'huge', secret: true, sealed: 'A'.repeat(20_000) })])],
      ['more settings than the end marker counts', withLines(['{"setting":"extra","secret":false,"value":"x"}'], trailer.settings as number)],
      ['more than 200 settings', withLines(Array.from({ length: 201 }, (_, i) => JSON.stringify({ setting: `k${i}`, secret: false, value: 'v' })))],
    ];
    for (const [what, hostile] of cases) {
      const slug = uniqueSlug('set_host');
      await expect(importTenant(database, template, textStream(hostile), { slug, settingsKeys: keys }), what).rejects.toMatchObject({
        code: 'INVALID_EXPORT',
        message: expect.not.stringMatching(/not valid JSON|neither a row/),
      });
      expect(await findTenantBySlug(database.control, slug), what).toBeUndefined();
    }
  });
});
