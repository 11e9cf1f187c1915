import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantBySlug } from '../../../src/control/registry/tenant.repository.js';
import { purgeTenant, softDeleteTenant } from '../../../src/control/tenants/tenant-lifecycle.service.js';
import { createTenant } from '../../../src/control/tenants/tenant.service.js';
import type { Database } from '../../../src/db/database.js';
import { loadTemplate, type Template } from '../../../src/migrations/template.js';
import { columnsOf, openTestDatabase, templatesWith, tenantTemplate, uniqueSlug } from '../../helpers/test-database.js';

async function schemaExists(database: Database, schema: string): Promise<boolean> {
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${schema}`.execute(database.control);
  return result.rows[0]!.n === 1;
}

async function role(database: Database, name: string): Promise<{ rolcanlogin: boolean; rolsuper: boolean } | undefined> {
  const result = await sql<{ rolcanlogin: boolean; rolsuper: boolean }>`
    SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = ${name}`.execute(database.control);
  return result.rows[0];
}

/** Roles are cluster-wide, so this may include other databases' tenants. */
async function tenantRoles(database: Database): Promise<string[]> {
  const result = await sql<{ rolname: string }>`SELECT rolname FROM pg_roles WHERE rolname LIKE 'tenant\\_%'`.execute(database.control);
  return result.rows.map((row) => row.rolname);
}

describe('provisioning', () => {
  let database: Database;
  let template: Template;

  beforeAll(async () => {
    database = await openTestDatabase();
    template = await tenantTemplate();
  });
  afterAll(() => database.close());

  it('sends each statement of a template file as a query of its own, as a Citus coordinator needs', async () => {
    const sent: string[] = [];
    const recording = await openTestDatabase({ onQuery: (statement) => sent.push(statement) });
    try {
      await createTenant(recording, template, { slug: uniqueSlug('prov_stmt') });
    } finally {
      await recording.close();
    }
    const statements = template.migrations.flatMap((m) => m.up);
    expect(statements.length).toBeGreaterThan(template.migrations.length);
    for (const statement of statements) expect(sent, statement).toContain(statement);
  });

  it('creates the registry row, schema, NOLOGIN role and every template table, and reports its duration', async () => {
    const slug = uniqueSlug('prov');
    const { tenant, durationMs } = await createTenant(database, template, { slug, name: 'Provisioned Ltd' });

    expect(tenant).toMatchObject({ slug, name: 'Provisioned Ltd', status: 'active', plan: 'basic', template_version: template.latestVersion });
    expect(tenant.schema_name).toBe(`tenant_${tenant.id.replaceAll('-', '')}`);
    expect(durationMs).toBeGreaterThan(0);
    expect(await schemaExists(database, tenant.schema_name)).toBe(true);
    expect(await role(database, tenant.schema_name)).toEqual({ rolcanlogin: false, rolsuper: false });
    for (const table of ['users', 'projects', 'deployments', 'workflows', 'audit_log', 'schema_migrations']) {
      expect(await columnsOf(database, tenant.schema_name, table), table).not.toEqual([]);
    }
    const ledger = await sql<{ name: string; checksum: string }>`
      SELECT name, checksum FROM ${sql.id(tenant.schema_name, 'schema_migrations')}`.execute(database.control);
    expect(ledger.rows).toEqual(template.migrations.map((m) => ({ name: m.name, checksum: m.checksum })));
  });

  it('refuses a duplicate slug with TENANT_EXISTS and leaves the first tenant alone', async () => {
    const slug = uniqueSlug('dup');
    const first = (await createTenant(database, template, { slug })).tenant;
    await expect(createTenant(database, template, { slug })).rejects.toMatchObject({ code: 'TENANT_EXISTS' });
    expect(await findTenantBySlug(database.control, slug)).toEqual(first);
  });

  it('two concurrent creates of one slug: exactly one wins, the other gets TENANT_EXISTS', async () => {
    const slug = uniqueSlug('race');
    const outcomes = await Promise.allSettled([createTenant(database, template, { slug }), createTenant(database, template, { slug })]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'TENANT_EXISTS' });
  });

  it('a failure in the last step leaves no row, schema or role behind', async () => {
    const broken = await loadTemplate(
      await templatesWith({ '0101_break_everything.sql': '-- migrate:up\nCREATE TABLE ok_so_far (id int);\nSELECT 1 / 0;\n' }),
      'tenant',
    );
    const slug = uniqueSlug('atomic');
    const rolesBefore = new Set(await tenantRoles(database));

    await expect(createTenant(database, broken, { slug })).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringMatching(/0101_break_everything\.sql \(up\) failed: division by zero/),
    });

    expect(await findTenantBySlug(database.control, slug)).toBeUndefined();
    // Other test files create tenants meanwhile; theirs commit row, schema and
    // role together, so anything without a registry row is a leftover of ours.
    const registered = new Set((await sql<{ schema_name: string }>`SELECT schema_name FROM control.tenants`.execute(database.control)).rows.map((r) => r.schema_name));
    const schemas = await sql<{ nspname: string }>`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'`.execute(database.control);
    expect(schemas.rows.map((r) => r.nspname).filter((name) => !registered.has(name))).toEqual([]);
    const newRoles = (await tenantRoles(database)).filter((name) => !rolesBefore.has(name));
    expect(newRoles.filter((name) => !registered.has(name))).toEqual([]);
  });

  it('purge needs a soft-deleted tenant, then drops schema, role and row', async () => {
    const slug = uniqueSlug('del');
    const { tenant } = await createTenant(database, template, { slug });

    await expect(purgeTenant(database, slug)).rejects.toMatchObject({ code: 'TENANT_NOT_DELETED' });
    expect(await schemaExists(database, tenant.schema_name)).toBe(true);
    await softDeleteTenant(database, slug);
    expect(await schemaExists(database, tenant.schema_name)).toBe(true);

    await purgeTenant(database, slug);
    expect(await findTenantBySlug(database.control, slug)).toBeUndefined();
    expect(await schemaExists(database, tenant.schema_name)).toBe(false);
    expect(await role(database, tenant.schema_name)).toBeUndefined();
    await expect(purgeTenant(database, slug)).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });

  it('a tenant can be created on a plan; an unknown plan is refused with PLAN_NOT_FOUND and leaves nothing', async () => {
    const slug = uniqueSlug('plan');
    expect((await createTenant(database, template, { slug, plan: 'enterprise' })).tenant.plan).toBe('enterprise');
    const refused = uniqueSlug('plan');
    await expect(createTenant(database, template, { slug: refused, plan: 'platinum' })).rejects.toMatchObject({ code: 'PLAN_NOT_FOUND' });
    expect(await findTenantBySlug(database.control, refused)).toBeUndefined();
  });
});
