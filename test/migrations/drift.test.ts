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
