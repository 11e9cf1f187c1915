import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config.js';
import { purgeTenant, softDeleteTenant } from '../../../src/control/tenants/tenant-lifecycle.service.js';
import { grantLoginToTenantRoles } from '../../../src/control/tenants/tenant-schema.repository.js';
import { createTenant } from '../../../src/control/tenants/tenant.service.js';
import { openDatabase, type Database } from '../../../src/db/database.js';
import { ensureEmbeddedPostgres } from '../../../src/db/embedded-postgres.js';
import { scramSha256Verifier } from '../../../src/db/scram-verifier.js';
import type { Template } from '../../../src/migrations/template.js';
import { asTenant } from '../../helpers/migration-steps.js';
import { openTestDatabase, tenantTemplate, testConfig, uniqueSlug } from '../../helpers/test-database.js';

async function roleOf(database: Database, name: string): Promise<{ rolcanlogin: boolean; verifier: string | null } | undefined> {
  const result = await sql<{ rolcanlogin: boolean; verifier: string | null }>`
    SELECT rolcanlogin, rolpassword AS verifier FROM pg_authid WHERE rolname = ${name}`.execute(database.control);
  return result.rows[0];
}

/**
 * Citus reaches its workers as the current role, which in a tenant
 * transaction is the tenant's: TENANT_ROLE_LOGIN gives tenant roles LOGIN and
 * a credential. On plain PostgreSQL, 'auto' keeps them NOLOGIN.
 */
describe('tenant roles that can log in (TENANT_ROLE_LOGIN)', () => {
  let plain: Database;
  let login: Database;
  let template: Template;
  const statements: string[] = [];

  beforeAll(async () => {
    template = await tenantTemplate();
    plain = await openTestDatabase();
    login = await openDatabase(testConfig({ tenantRoleLogin: 'on', poolSize: 4 }), { onQuery: (text) => statements.push(text) });
  });
  afterAll(async () => {
    await login.close();
    await plain.close();
  });

  it("'auto' on plain PostgreSQL resolves to NOLOGIN, 'on' to LOGIN; an unknown value is refused", async () => {
    expect(plain.citusVersion).toBeUndefined();
    expect(plain.tenantRoleLogin).toBe(false);
    expect(login.tenantRoleLogin).toBe(true);
    const { loadConfig } = await import('../../../src/config.js');
    expect(() => loadConfig({ TENANT_ROLE_LOGIN: 'yes' })).toThrow(/TENANT_ROLE_LOGIN must be auto, on or off, got "yes"/);
  });

  it('a login role gets a SCRAM verifier, never its password in a statement, and still reaches only its own schema', async () => {
    statements.length = 0;
    const { tenant } = await createTenant(login, template, { slug: uniqueSlug('login') });
    const other = (await createTenant(plain, template, { slug: uniqueSlug('nologin') })).tenant;
    const role = await roleOf(login, tenant.schema_name);
    expect(role).toMatchObject({ rolcanlogin: true, verifier: expect.stringMatching(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/) });
    expect((await roleOf(plain, other.schema_name))?.rolcanlogin).toBe(false);

    // The only statement naming a password carries the verifier.
    const withPassword = statements.filter((text) => /\bPASSWORD\s+'/i.test(text));
    expect(withPassword).toEqual([expect.stringMatching(/^CREATE ROLE "tenant_[0-9a-f]{32}" LOGIN PASSWORD 'SCRAM-SHA-256\$4096:/)]);

    // LOGIN gives no privilege: the tenant role reads its own tables and is refused another tenant's.
    expect(await asTenant(login, tenant, 'SELECT count(*)::int AS n FROM projects')).toEqual([{ n: 0 }]);
    await expect(asTenant(login, tenant, `SELECT count(*) FROM ${other.schema_name}.projects`)).rejects.toMatchObject({ code: '42501' });
    // Negative control: the same statement as the other tenant itself is allowed, so the refusal above is the role's doing.
    expect(await asTenant(plain, other, `SELECT count(*)::int AS n FROM ${other.schema_name}.projects`)).toEqual([{ n: 0 }]);
  });

  it('migrate gives LOGIN to roles made before the option was on, once, even when two servers start at once', async () => {
    const older = [(await createTenant(plain, template, { slug: uniqueSlug('older') })).tenant, (await createTenant(plain, template, { slug: uniqueSlug('older') })).tenant];
    expect((await roleOf(plain, older[0]!.schema_name))?.rolcanlogin).toBe(false);
    // Only these tenants: other test files' tenants share the database.
    const slugs = older.map((tenant) => tenant.slug);
    expect(await grantLoginToTenantRoles(plain, slugs)).toEqual({ changed: [], failed: [] });
    const second = await openDatabase(testConfig({ tenantRoleLogin: 'on', poolSize: 2 }));
    try {
      const [a, b] = await Promise.all([grantLoginToTenantRoles(login, slugs), grantLoginToTenantRoles(second, slugs)]);
      expect([...a.failed, ...b.failed]).toEqual([]);
      // Each role was changed by exactly one of the two.
      for (const tenant of older) expect([...a.changed, ...b.changed].filter((schema) => schema === tenant.schema_name)).toHaveLength(1);
    } finally {
      await second.close();
    }
    for (const tenant of older) expect(await roleOf(login, tenant.schema_name)).toMatchObject({ rolcanlogin: true, verifier: expect.stringMatching(/^SCRAM-SHA-256\$/) });
    expect(await grantLoginToTenantRoles(login, slugs)).toEqual({ changed: [], failed: [] });
  });

  it('purge drops the login role with the schema', async () => {
    const { tenant } = await createTenant(login, template, { slug: uniqueSlug('purged') });
    await softDeleteTenant(login, tenant.slug);
    await purgeTenant(login, tenant.slug);
    expect(await roleOf(login, tenant.schema_name)).toBeUndefined();
  });
});

describe('the SCRAM verifier', () => {
  // A cluster of its own that demands passwords (the suite's server may trust every local login).
  const dataDir = path.join(PROJECT_ROOT, '.data', `test-scram-${randomBytes(3).toString('hex')}`);
  let server: Awaited<ReturnType<typeof ensureEmbeddedPostgres>>;
  beforeAll(async () => {
    server = await ensureEmbeddedPostgres({ dataDir, unsafeFastWrites: true });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const connectAs = async (user: string, password: string) => {
    const url = new URL(server.url);
    url.username = user;
    url.password = password;
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      await client.connect();
      return (await client.query<{ who: string }>('SELECT current_user AS who')).rows[0]!.who;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it('PostgreSQL accepts the password it was made from, and refuses any other', async () => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const password = randomBytes(32).toString('base64url');
    try {
      await admin.query(`CREATE ROLE verifier_check LOGIN PASSWORD '${scramSha256Verifier(password)}'`);
      const stored = await admin.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = 'verifier_check'`);
      // Stored as given: PostgreSQL never saw the password.
      expect(stored.rows[0]!.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(await connectAs('verifier_check', password)).toBe('verifier_check');
      await expect(connectAs('verifier_check', `${password}x`)).rejects.toMatchObject({ code: '28P01' });
    } finally {
      await admin.end();
    }
    expect(() => scramSha256Verifier('not ascii é')).toThrow(/printable ASCII/);
  });
});
