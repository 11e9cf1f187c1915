import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantBySlug } from '../../../src/control/registry/tenant.repository.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { migrateTenants } from '../../../src/control/fleet/migrate-tenants.js';
import { loadTemplate, type Template } from '../../../src/migrations/template.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { columnsOf, openTestDatabase, seedTenant, templatesWith, tenantTemplate } from '../../helpers/test-database.js';

const ADD_COLUMN = `-- migrate:up
ALTER TABLE projects ADD COLUMN archived_at timestamptz;
CREATE INDEX projects_archived_at_idx ON projects (archived_at);
-- migrate:down
ALTER TABLE projects DROP COLUMN archived_at;
`;
// Fails only where a project is named 'poison', i.e. in one chosen tenant.
const POISON_CHECK = `-- migrate:up
ALTER TABLE projects ADD CONSTRAINT projects_not_poison CHECK (name <> 'poison');
-- migrate:down
ALTER TABLE projects DROP CONSTRAINT projects_not_poison;
`;

async function ledger(database: Database, tenant: Tenant): Promise<string[]> {
  const rows = await sql<{ name: string }>`SELECT name FROM ${sql.id(tenant.schema_name, 'schema_migrations')} ORDER BY name`.execute(database.control);
  return rows.rows.map((row) => row.name);
}

async function version(database: Database, tenant: Tenant): Promise<number> {
  return (await findTenantBySlug(database.control, tenant.slug))!.template_version;
}

describe('migrating the tenant fleet', () => {
  let database: Database;
  /** The shipped template, and the same plus two test migrations (0101, 0102). */
  let v1: Template;
  let v3: Template;
  let base: string[];

  beforeAll(async () => {
    database = await openTestDatabase();
    v1 = await tenantTemplate();
    base = v1.migrations.map((m) => m.name);
    v3 = await loadTemplate(await templatesWith({ '0101_add_archived_at.sql': ADD_COLUMN, '0102_forbid_poison.sql': POISON_CHECK }), 'tenant');
  });
  afterAll(() => database.close());

  it("a broken migration leaves its tenant untouched while the others migrate, and the result names it", async () => {
    const tenants = await Promise.all([1, 2, 3, 4].map(() => seedTenant(database, v1, 'fleet')));
    const poisoned = tenants[1]!;
    await withTenantTransaction(database, poisoned, {}, (trx) => trx.insertInto('projects').values({ name: 'poison' }).execute());

    const result = await migrateTenants(database, v3, { direction: { direction: 'up' }, concurrency: 2, slugs: tenants.map((t) => t.slug) });

    expect(result).toMatchObject({ migrated: 3, failed: 1, alreadyCurrent: 0 });
    const failure = result.results.find((r) => !r.ok);
    expect(failure).toMatchObject({ slug: poisoned.slug, ok: false, code: 'MIGRATION_FAILED', from: v1.latestVersion });
    expect(failure && !failure.ok && failure.error).toMatch(new RegExp(`tenant "${poisoned.slug}": 0102_forbid_poison.sql \\(up\\) failed: .*projects_not_poison`));

    for (const tenant of tenants) {
      if (tenant === poisoned) {
        // 0101 succeeded inside the same transaction, and was rolled back with 0102.
        expect(await version(database, tenant)).toBe(v1.latestVersion);
        expect(await ledger(database, tenant)).toEqual(base);
        expect(await columnsOf(database, tenant.schema_name, 'projects')).not.toContain('archived_at');
      } else {
        expect(await version(database, tenant)).toBe(102);
        expect(await ledger(database, tenant)).toEqual([...base, '0101_add_archived_at.sql', '0102_forbid_poison.sql']);
        expect(await columnsOf(database, tenant.schema_name, 'projects')).toContain('archived_at');
      }
    }

    // The tenant role can use the new column: grants follow the migration.
    const healthy = tenants[0]!;
    await withTenantTransaction(database, healthy, {}, (trx) =>
      sql`INSERT INTO projects (name, archived_at) VALUES ('kept', now())`.execute(trx),
    );

    // Once the data is fixed, a second run picks up exactly the tenant that is behind.
    await withTenantTransaction(database, poisoned, {}, (trx) => trx.deleteFrom('projects').where('name', '=', 'poison').execute());
    const retry = await migrateTenants(database, v3, { direction: { direction: 'up' }, concurrency: 2, slugs: tenants.map((t) => t.slug) });
    expect(retry).toMatchObject({ migrated: 1, failed: 0, alreadyCurrent: 3 });
    expect(await version(database, poisoned)).toBe(102);
  });

  it('two migrators at once apply each file exactly once per tenant and both finish cleanly', async () => {
    const tenants = await Promise.all([1, 2, 3, 4, 5, 6].map(() => seedTenant(database, v1, 'twin')));
    const slugs = tenants.map((t) => t.slug);

    // ADD COLUMN is not idempotent: a second application would fail, so no
    // failure below means the advisory lock serialised the two runs.
    const [first, second] = await Promise.all([
      migrateTenants(database, v3, { direction: { direction: 'up' }, concurrency: 3, slugs }),
      migrateTenants(database, v3, { direction: { direction: 'up' }, concurrency: 3, slugs }),
    ]);

    expect(first.failed + second.failed).toBe(0);
    const appliedFiles = [...first.results, ...second.results].flatMap((r) => (r.ok ? r.files : []));
    expect(appliedFiles).toHaveLength(tenants.length * 2);
    for (const tenant of tenants) {
      expect(await ledger(database, tenant)).toEqual([...base, '0101_add_archived_at.sql', '0102_forbid_poison.sql']);
      expect(await version(database, tenant)).toBe(102);
    }
  });

  it('control: without the advisory lock the same double run does collide', async () => {
    const tenant = await seedTenant(database, v1, 'nolock');
    const apply = () =>
      database.control.transaction().execute(async (trx) => {
        await sql`SELECT set_config('search_path', ${`"${tenant.schema_name}"`}, true)`.execute(trx);
        for (const statement of v3.migrations.find((m) => m.version === 101)!.up) await sql.raw(statement).execute(trx);
      });
    const outcomes = await Promise.allSettled([apply(), apply()]);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
  });

  it('down reverts one step per tenant, or down to a version, and keeps the registry in step', async () => {
    const tenant = await seedTenant(database, v1, 'down');
    await migrateTenants(database, v3, { direction: { direction: 'up' }, concurrency: 1, slugs: [tenant.slug] });

    const oneStep = await migrateTenants(database, v3, { direction: { direction: 'down' }, concurrency: 1, slugs: [tenant.slug] });
    expect(oneStep.results).toEqual([{ slug: tenant.slug, ok: true, from: 102, to: 101, files: ['0102_forbid_poison.sql'] }]);
    expect(await version(database, tenant)).toBe(101);

    const back = v1.latestVersion;
    const toBase = await migrateTenants(database, v3, { direction: { direction: 'down', toVersion: back }, concurrency: 1, slugs: [tenant.slug] });
    expect(toBase.results).toEqual([{ slug: tenant.slug, ok: true, from: 101, to: back, files: ['0101_add_archived_at.sql'] }]);
    expect(await version(database, tenant)).toBe(back);
    expect(await columnsOf(database, tenant.schema_name, 'projects')).not.toContain('archived_at');
    expect(await ledger(database, tenant)).toEqual(base);

    const again = await migrateTenants(database, v3, { direction: { direction: 'down', toVersion: back }, concurrency: 1, slugs: [tenant.slug] });
    expect(again).toMatchObject({ migrated: 0, alreadyCurrent: 1 });
  });

  it('down through a file without a down section fails clearly and changes nothing', async () => {
    const noDown = await loadTemplate(await templatesWith({ '0101_one_way.sql': '-- migrate:up\nALTER TABLE users ADD COLUMN nickname text;\n' }), 'tenant');
    const tenant = await seedTenant(database, v1, 'oneway');
    await migrateTenants(database, noDown, { direction: { direction: 'up' }, concurrency: 1, slugs: [tenant.slug] });

    const result = await migrateTenants(database, noDown, { direction: { direction: 'down' }, concurrency: 1, slugs: [tenant.slug] });
    expect(result.results).toEqual([
      expect.objectContaining({ ok: false, code: 'NO_DOWN_MIGRATION', error: expect.stringContaining('0101_one_way.sql has no "-- migrate:down" section') }),
    ]);
    expect(await version(database, tenant)).toBe(101);
    expect(await columnsOf(database, tenant.schema_name, 'users')).toContain('nickname');
  });
});
