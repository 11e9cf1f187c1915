import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationsIn, scratchControlPlane, tenantRow, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0001 on a database that has no control plane: migrate to 0, migrate, assert. */
describe('control migration 0001 (the tenant registry)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('creates control.tenants with its defaults and refuses rows that break its rules', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 0 });
    // Version 0: the schema and its ledger, nothing else; no rows can exist before the registry does.
    expect(await relationsIn(plane.database, 'control')).toEqual(['schema_migrations']);

    expect(await plane.migrate({ direction: 'up', toVersion: 1 })).toEqual(['0001_create_tenants.sql']);
    expect(await relationsIn(plane.database, 'control')).toEqual(['schema_migrations', 'tenants']);
    await sql.raw(tenantRow('acme')).execute(db);
    const row = await sql<{ status: string; plan: string; template_version: number }>`SELECT status, plan, template_version FROM control.tenants`.execute(db);
    expect(row.rows).toEqual([{ status: 'active', plan: 'basic', template_version: 0 }]);

    for (const [label, statement, constraint] of [
      ['a slug taken', tenantRow('acme'), 'tenants_slug_key'],
      ['a slug with capitals', tenantRow('Acme'), 'tenants_slug_format'],
      ['a slug starting with a digit', tenantRow('1acme'), 'tenants_slug_format'],
      ['a slug in the pg_ namespace', tenantRow('pg_acme'), 'tenants_slug_format'],
      ['an unknown status', tenantRow('acme_status', { status: "'archived'" }), 'tenants_status_check'],
      ['an unknown plan', tenantRow('acme_plan', { plan: "'gold'" }), 'tenants_plan_check'],
      ['a negative template version', tenantRow('acme_version', { template_version: '-1' }), 'tenants_template_version_check'],
      ['a schema name not of the tenant shape', tenantRow('acme_schema', { schema_name: "'public'" }), 'tenants_schema_name_check'],
    ] as const) {
      await expect(sql.raw(statement).execute(db), label).rejects.toMatchObject({ constraint });
    }
  });

  it('goes down to an empty control schema and up again', async () => {
    expect(await plane.migrate({ direction: 'down', toVersion: 0 })).toEqual(['0001_create_tenants.sql']);
    expect(await relationsIn(plane.database, 'control')).toEqual(['schema_migrations']);
    expect(await plane.migrate({ direction: 'up', toVersion: 1 })).toEqual(['0001_create_tenants.sql']);
    expect(await relationsIn(plane.database, 'control')).toEqual(['schema_migrations', 'tenants']);
  });
});
