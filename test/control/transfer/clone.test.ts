import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantAuth } from '../../../src/auth/tenant-auth.repository.js';
import { cloneTenant } from '../../../src/control/transfer/tenant-clone.service.js';
import type { Database } from '../../../src/db/database.js';
import { LOCK_NAMESPACE, lockSchema } from '../../../src/db/schema-locks.js';
import { loadTemplate, type Template } from '../../../src/migrations/template.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { eventually } from '../../helpers/eventually.js';
import { fillTenant, tenantContents } from '../../helpers/tenant-contents.js';
import { openTestDatabase, seedTenant, templatesWith, tenantTemplate, uniqueSlug } from '../../helpers/test-database.js';

describe('tenant clone', () => {
  let database: Database;
  let template: Template;
  const statements: string[] = [];

  beforeAll(async () => {
    database = await openTestDatabase({ onQuery: (statement) => statements.push(statement) });
    template = await tenantTemplate();
  });
  afterAll(() => database.close());

  it('a clone holds every row of its source, and writes to either leave the other alone', async () => {
    const source = await seedTenant(database, template, 'cln_src');
    await fillTenant(database, source);
    const before = await tenantContents(database, source.schema_name);

    statements.length = 0;
    const cloned = await cloneTenant(database, template, source.slug, { slug: uniqueSlug('cln_copy') });
    // Server-side: rows are copied by INSERT … SELECT, never selected into Node.
    expect(statements.filter((s) => /^\s*INSERT INTO "tenant_\w+"\."\w+" .* SELECT .* FROM "tenant_\w+"\."\w+"\s*$/s.test(s))).toHaveLength(Object.keys(before).length);
    expect(statements.some((s) => /to_jsonb|jsonb_populate/.test(s))).toBe(false);

    const copy = cloned.tenant;
    expect(copy).toMatchObject({ name: `${source.name} (clone)`, plan: source.plan, status: 'active', template_version: template.latestVersion });
    expect(copy.schema_name).not.toBe(source.schema_name);
    expect(await tenantContents(database, copy.schema_name)).toEqual(before);
    expect(cloned.rows).toBe(Object.values(before).reduce((sum, table) => sum + table.rows, 0));
    const [sourceAuth, copyAuth] = await Promise.all([findTenantAuth(database.control, source.id), findTenantAuth(database.control, copy.id)]);
    expect(copyAuth!.hmac_secret).not.toBe(sourceAuth!.hmac_secret);

    await withTenantTransaction(database, copy, {}, async (trx) => {
      await sql`INSERT INTO projects (name) VALUES ('only in the clone')`.execute(trx);
      await sql`UPDATE users SET name = 'Renamed in the clone'`.execute(trx);
      await sql`DELETE FROM deployments`.execute(trx);
    });
    expect(await tenantContents(database, source.schema_name)).toEqual(before);

    const copyNow = await tenantContents(database, copy.schema_name);
    await withTenantTransaction(database, source, {}, (trx) => sql`DELETE FROM workflows`.execute(trx));
    expect(await tenantContents(database, copy.schema_name)).toEqual(copyNow);
  });

  it('a clone of a tenant behind the template is copied at its version, then migrated to the head', async () => {
    const source = await seedTenant(database, template, 'cln_old');
    await fillTenant(database, source, { users: 4, projects: 3, deployments: 20, workflows: 2 });
    const newer = await loadTemplate(
      await templatesWith({
        '0101_add_workflow_priority.sql': '-- migrate:up\nALTER TABLE workflows ADD COLUMN priority integer;\nUPDATE workflows SET priority = length(name);\n',
      }),
      'tenant',
    );
    const { tenant } = await cloneTenant(database, newer, source.slug, { slug: uniqueSlug('cln_new'), name: 'Staging' });
    expect(tenant).toMatchObject({ name: 'Staging', template_version: 101 });
    const migrated = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.id(tenant.schema_name, 'workflows')} WHERE priority = length(name)`.execute(database.control);
    expect(migrated.rows[0]!.n).toBe((await tenantContents(database, source.schema_name)).workflows!.rows);
    expect(await tenantContents(database, tenant.schema_name, { workflows: ['priority'] })).toEqual(await tenantContents(database, source.schema_name, { workflows: ['priority'] }));
  });

  it('a clone waits for a migration of its source in progress, so a table the migration rewrote is copied whole', async () => {
    const source = await seedTenant(database, template, 'cln_mig');
    await fillTenant(database, source, { users: 3, projects: 2, deployments: 10, workflows: 20 });
    const before = await tenantContents(database, source.schema_name);

    // A migration holding the source's lock has rewritten workflows (a volatile default rewrites every row):
    // a snapshot taken before it commits would see that table as empty.
    const migration = await database.control.startTransaction().execute();
    try {
      await lockSchema(migration, source.schema_name);
      await sql`ALTER TABLE ${sql.id(source.schema_name, 'workflows')} ADD COLUMN rewritten integer DEFAULT (random() * 0)::integer`.execute(migration);
      await sql`ALTER TABLE ${sql.id(source.schema_name, 'workflows')} DROP COLUMN rewritten`.execute(migration);
    } catch (error) {
      await migration.rollback().execute();
      throw error;
    }
    const cloning = cloneTenant(database, template, source.slug, { slug: uniqueSlug('cln_mig_copy') });
    try {
      const waiting = await eventually(
        async () =>
          (
            await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
              AND classid = ${LOCK_NAMESPACE}::oid AND objid = hashtext(${source.schema_name})::oid`.execute(database.control)
          ).rows[0]!.n,
        (n) => n > 0,
        10_000,
      );
      expect(waiting).toBe(1);
    } finally {
      await migration.commit().execute();
    }
    const cloned = await cloning;
    expect(cloned.rowCounts.workflows).toBe(before.workflows!.rows);
    expect(await tenantContents(database, cloned.tenant.schema_name)).toEqual(before);
  });
});
