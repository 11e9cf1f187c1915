import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantBySlug } from '../../src/control/registry/tenant.repository.js';
import type { Database } from '../../src/db/database.js';
import { migrateTenants } from '../../src/control/fleet/migrate-tenants.js';
import { migrationStatus } from '../../src/control/fleet/migration-status.js';
import { loadTemplate, loadTemplates } from '../../src/migrations/template.js';
import { openTestDatabase, seedTenant, templatesWith, tenantTemplate } from '../helpers/test-database.js';

const NEXT = '-- migrate:up\nALTER TABLE workflows ADD COLUMN schedule text;\n-- migrate:down\nALTER TABLE workflows DROP COLUMN schedule;\n';

describe('drift', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('an edited applied file is refused with MIGRATION_DRIFT naming the tenant and the file, and nothing is applied', async () => {
    const shipped = await tenantTemplate();
    const tenant = await seedTenant(database, shipped, 'drift');
    const dir = await templatesWith({ '0101_add_schedule.sql': NEXT });
    await fs.appendFile(path.join(dir, 'tenant', '0001_create_domain.sql'), '\n-- edited after it was applied\n');
    const edited = await loadTemplate(dir, 'tenant');

    const result = await migrateTenants(database, edited, { direction: { direction: 'up' }, concurrency: 1, slugs: [tenant.slug] });

    expect(result.failed).toBe(1);
    const [failure] = result.results;
    expect(failure).toMatchObject({ ok: false, code: 'MIGRATION_DRIFT' });
    expect(failure && !failure.ok && failure.error).toMatch(
      new RegExp(`^tenant "${tenant.slug}" \\(schema ${tenant.schema_name}\\) has drifted.*0001_create_domain\\.sql: changed since it was applied`),
    );
    expect((await findTenantBySlug(database.control, tenant.slug))!.template_version).toBe(shipped.latestVersion);
    const columns = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = ${tenant.schema_name} AND column_name = 'schedule'`.execute(database.control);
    expect(columns.rows[0]!.n).toBe(0);
  });

  it('a ledger row holding a checksum the file supersedes is no drift; any other checksum still is', async () => {
    const shipped = await tenantTemplate();
    const superseded = createHash('sha256')
      .update(await fs.readFile(path.resolve('test/fixtures/templates/tenant-0002-add-identity-before-named-constraints.sql')))
      .digest('hex');
    expect(shipped.migrations.find((m) => m.name === '0002_add_identity.sql')!.supersededChecksums).toEqual([superseded]);
    const [before, other] = await Promise.all([seedTenant(database, shipped, 'superseded'), seedTenant(database, shipped, 'other_sum')]);
    for (const [tenant, checksum] of [
      [before!, superseded],
      [other!, randomBytes(32).toString('hex')],
    ] as const) {
      await sql`UPDATE ${sql.id(tenant.schema_name, 'schema_migrations')} SET checksum = ${checksum} WHERE name = '0002_add_identity.sql'`.execute(database.control);
    }
    const next = await loadTemplate(await templatesWith({ '0101_add_schedule.sql': NEXT }), 'tenant');

    const result = await migrateTenants(database, next, { direction: { direction: 'up' }, concurrency: 1, slugs: [before!.slug, other!.slug] });

    expect(result.results.find((r) => r.slug === before!.slug)).toMatchObject({ ok: true, files: ['0101_add_schedule.sql'] });
    const refused = result.results.find((r) => r.slug === other!.slug);
    expect(refused).toMatchObject({ ok: false, code: 'MIGRATION_DRIFT' });
    expect(refused && !refused.ok && refused.error).toMatch(/0002_add_identity\.sql: changed since it was applied/);
    const status = await migrationStatus(database, { ...(await loadTemplates(path.resolve('schema-templates'))), tenant: next });
    expect(status.tenants.drift.filter((d) => d.slug === before!.slug)).toEqual([]);
    expect(status.tenants.drift.filter((d) => d.slug === other!.slug)).toEqual([expect.objectContaining({ file: '0002_add_identity.sql' })]);
  });

  it('status reports per-tenant drift (an unknown ledger entry, a registry out of step) and nothing for a clean tenant', async () => {
    const template = await tenantTemplate();
    const [clean, tampered, lagging] = await Promise.all([1, 2, 3].map(() => seedTenant(database, template, 'status')));
    await sql`INSERT INTO ${sql.id(tampered!.schema_name, 'schema_migrations')} (name, checksum) VALUES ('0099_ghost.sql', 'x')`.execute(database.control);
    await sql`UPDATE control.tenants SET template_version = 0 WHERE id = ${lagging!.id}`.execute(database.control);

    const status = await migrationStatus(database, await loadTemplates(path.resolve('schema-templates')));
    const mine = (slug: string) => status.tenants.drift.filter((d) => d.slug === slug);

    expect(mine(clean!.slug)).toEqual([]);
    expect(mine(tampered!.slug)).toEqual([{ slug: tampered!.slug, file: '0099_ghost.sql', problem: 'applied, but the file no longer exists in the template' }]);
    expect(mine(lagging!.slug)).toEqual([
      { slug: lagging!.slug, file: '-', problem: `registry says version 0, the schema's ledger says ${template.latestVersion}` },
    ]);
    expect(status.tenants.behind).toContainEqual({ slug: lagging!.slug, version: 0, status: 'active' });
    expect(status.control).toMatchObject({ pending: [], drift: [] });
  });
});
