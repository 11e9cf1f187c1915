import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { createLogger } from '../../../src/server/observability/logger.js';
import { startAdminTestServer, type AdminTestServer } from '../../helpers/admin-server.js';
import { seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../../helpers/test-server.js';

// Plain words, so the log scrubber's patterns would not catch them: only the redaction can.
const SECRET = 'purple monkey dishwasher';
const SECRET_INLINE = 'orange tractor lullaby';
const SECRET_FRAGMENT = 'silver kettle harmonica';

const code = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code;

describe('tenant settings through /admin/graphql and the tenant API', () => {
  let server: TestServer;
  let admin: AdminTestServer;
  let tenant: Tenant;
  const lines: string[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    admin = await startAdminTestServer(server.database, { logger: createLogger('debug', { write: (line: string) => void lines.push(line) }) });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_set');
  });
  afterAll(() => server.close());

  const SET = 'mutation ($slug: String!, $key: String!, $value: String!, $secret: Boolean) { setTenantSetting(slug: $slug, key: $key, value: $value, secret: $secret) { key secret value } }';

  it('sets, lists masked, reveals with a record, and never logs a value', async () => {
    const secret = await admin.admin(SET, { slug: tenant.slug, key: 'crm.api_key', value: SECRET, secret: true });
    expect(secret.body).toEqual({ data: { setTenantSetting: { key: 'crm.api_key', secret: true, value: null } } });
    const plain = await admin.admin(SET, { slug: tenant.slug, key: 'new_editor', value: 'enabled' });
    expect(plain.body.data).toEqual({ setTenantSetting: { key: 'new_editor', secret: false, value: 'enabled' } });
    // Through a fragment: the variable is still found and redacted.
    const viaFragment = await admin.admin(
      'mutation ($slug: String!, $v: String!) { ...Set } fragment Set on Mutation { setTenantSetting(slug: $slug, key: "hook.secret", value: $v, secret: true) { key } }',
      { slug: tenant.slug, v: SECRET_FRAGMENT },
    );
    expect(viaFragment.body.errors).toBeUndefined();
    // Written inline instead of as a variable: documents are not logged either.
    await admin.admin(`mutation { setTenantSetting(slug: "${tenant.slug}", key: "erp.password", value: "${SECRET_INLINE}", secret: true) { key } }`);

    const listed = await admin.admin<{ tenant: { settings: unknown[] } }>('query ($slug: String!) { tenant(slug: $slug) { settings { key secret value } } }', { slug: tenant.slug });
    expect(listed.body.data!.tenant.settings).toEqual([
      { key: 'crm.api_key', secret: true, value: null },
      { key: 'erp.password', secret: true, value: null },
      { key: 'hook.secret', secret: true, value: null },
      { key: 'new_editor', secret: false, value: 'enabled' },
    ]);
    expect(listed.text).not.toContain(SECRET);

    const token = await admin.platformToken();
    const revealed = await admin.admin('mutation ($slug: String!) { revealTenantSetting(slug: $slug, key: "crm.api_key") }', { slug: tenant.slug }, { token });
    expect(revealed.body.data).toEqual({ revealTenantSetting: SECRET });
    const reveals = await admin.admin<{ tenant: { settingReveals: { key: string; revealedBy: string }[] } }>(
      'query ($slug: String!) { tenant(slug: $slug) { settingReveals { key revealedBy revealedAt } } }',
      { slug: tenant.slug },
    );
    expect(reveals.body.data!.tenant.settingReveals).toMatchObject([{ key: 'crm.api_key', revealedBy: expect.stringMatching(/^admin:.+/) }]);

    // Refusals: coded, and the value still not logged.
    expect(code(await admin.admin(SET, { slug: tenant.slug, key: 'crm.api_key', value: SECRET, secret: false }))).toBe('SETTING_IS_SECRET');
    expect(code(await admin.admin(SET, { slug: tenant.slug, key: 'Not Valid', value: SECRET }))).toBe('INVALID_SETTING');
    expect(code(await admin.admin('mutation { revealTenantSetting(slug: "nobody_here_x", key: "k") }'))).toBe('TENANT_NOT_FOUND');

    const log = lines.join('');
    expect(log).toContain('"operation":"mutation (anonymous)"');
    // The audit line of a set keeps the operator's other arguments and redacts the value.
    expect(log).toContain('"value":"[redacted]"');
    expect(log).toContain('"key":"crm.api_key"');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(SECRET_INLINE);
    expect(log).not.toContain(SECRET_FRAGMENT);
  });

  it("shows a tenant's admin its plain settings only, and nobody else any", async () => {
    await admin.admin(SET, { slug: tenant.slug, key: 'zz.theme', value: 'dark' });
    const asAdmin = await server.graphql<{ tenant: { settings: { key: string; value: string }[] } }>(tenant.slug, '{ tenant { settings { key value } } }', {}, { as: 'admin' });
    expect(asAdmin.body.errors).toBeUndefined();
    const keys = asAdmin.body.data!.tenant.settings.map((s) => s.key);
    expect(keys).toContain('zz.theme');
    expect(keys).not.toContain('crm.api_key');
    expect(asAdmin.text).not.toContain(SECRET);
    expect(code(await server.graphql(tenant.slug, '{ tenant { settings { key } } }', {}, { as: 'member' }))).toBe('FORBIDDEN');
    // Another tenant's admin sees its own (none), never these.
    const other = await seedTenant(server.database, await tenantTemplate(), 'adm_set_other');
    const foreign = await server.graphql<{ tenant: { settings: unknown[] } }>(other.slug, '{ tenant { settings { key value } } }', {}, { as: 'admin' });
    expect(foreign.body.data!.tenant.settings).toEqual([]);
  });

  it('rotates a data key and re-wraps through the API, and deletes', async () => {
    const rotated = await admin.admin('mutation ($slug: String!) { rotateTenantSettingsKey(slug: $slug) }', { slug: tenant.slug });
    expect(rotated.body.data).toEqual({ rotateTenantSettingsKey: 3 });
    const again = await admin.admin('mutation ($slug: String!) { revealTenantSetting(slug: $slug, key: "erp.password") }', { slug: tenant.slug });
    expect(again.body.data).toEqual({ revealTenantSetting: SECRET_INLINE });
    const rewrap = await admin.admin<{ rewrapSettingsKeys: { masterKeyId: string; remaining: number; failed: { slug: string; code: string }[] } }>(
      'mutation { rewrapSettingsKeys { rewrapped remaining masterKeyId failed { slug code } } }',
    );
    const summary = rewrap.body.data!.rewrapSettingsKeys;
    expect(summary.masterKeyId).toMatch(/^[0-9a-f]{16}$/);
    // This tenant's key was made by this server's key, so it is current; other tests' tenants under their own keys are the ones left.
    const row = await sql<{ master_key_id: string }>`SELECT master_key_id FROM control.tenant_data_keys WHERE tenant_id = ${tenant.id}`.execute(server.database.control);
    expect(row.rows[0]!.master_key_id).toBe(summary.masterKeyId);
    expect(summary.failed.map((f) => f.slug)).not.toContain(tenant.slug);
    expect(summary.remaining).toBeGreaterThanOrEqual(summary.failed.length);
    expect((await admin.admin('mutation ($slug: String!) { deleteTenantSetting(slug: $slug, key: "zz.theme") }', { slug: tenant.slug })).body.data).toEqual({ deleteTenantSetting: true });
    expect(code(await admin.admin('mutation ($slug: String!) { deleteTenantSetting(slug: $slug, key: "zz.theme") }', { slug: tenant.slug }))).toBe('SETTING_NOT_FOUND');
  });
});
