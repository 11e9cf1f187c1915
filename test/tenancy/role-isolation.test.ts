import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';

/**
 * Defence in depth: even SQL that names another tenant's schema outright is
 * refused by PostgreSQL, because each request runs as its tenant's role.
 */
describe("a tenant role and another tenant's schema", () => {
  let database: Database;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    database = await openTestDatabase();
    const template = await tenantTemplate();
    [a, b] = await Promise.all([seedTenant(database, template, 'iso_a'), seedTenant(database, template, 'iso_b')]);
    await withTenantTransaction(database, b, {}, (trx) =>
      trx.insertInto('projects').values({ name: 'secret of b' }).execute(),
    );
  });
  afterAll(() => database.close());

  it("tenant A's role reading B's table by its qualified name gets permission denied from Postgres", async () => {
    const attempt = withTenantTransaction(database, a, { readOnly: true }, (trx) =>
      sql`SELECT name FROM ${sql.id(b.schema_name, 'projects')}`.execute(trx),
    );
    await expect(attempt).rejects.toMatchObject({ code: '42501', message: `permission denied for schema ${b.schema_name}` });
  });

  it("tenant A's role cannot write into B's schema or read the registry", async () => {
    await expect(
      withTenantTransaction(database, a, {}, (trx) => sql`INSERT INTO ${sql.id(b.schema_name, 'projects')} (name) VALUES ('x')`.execute(trx)),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      withTenantTransaction(database, a, { readOnly: true }, (trx) => sql`SELECT slug FROM control.tenants`.execute(trx)),
    ).rejects.toMatchObject({ code: '42501', message: 'permission denied for schema control' });
  });

  it('control: the same query as the login role does see the row, so the denial above is the role at work', async () => {
    const result = await sql<{ name: string }>`SELECT name FROM ${sql.id(b.schema_name, 'projects')}`.execute(database.control);
    expect(result.rows).toEqual([{ name: 'secret of b' }]);
  });

  it('control: tenant B reads its own row through search_path alone', async () => {
    const rows = await withTenantTransaction(database, b, { readOnly: true }, (trx) => trx.selectFrom('projects').select('name').execute());
    expect(rows).toEqual([{ name: 'secret of b' }]);
  });

  it('unqualified names in A resolve to A only, and public is not on the path', async () => {
    const seen = await withTenantTransaction(database, a, { readOnly: true }, async (trx) => {
      const rows = await trx.selectFrom('projects').select('name').execute();
      const path = await sql<{ search_path: string; role: string }>`SELECT current_setting('search_path') AS search_path, current_user AS role`.execute(trx);
      return { rows, ...path.rows[0]! };
    });
    expect(seen).toEqual({ rows: [], search_path: `"${a.schema_name}"`, role: a.schema_name });
  });

  it("the tenant role cannot alter its own schema's tables or its migration ledger", async () => {
    await expect(
      withTenantTransaction(database, a, {}, (trx) => sql`ALTER TABLE projects ADD COLUMN hacked int`.execute(trx)),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      withTenantTransaction(database, a, {}, (trx) => sql`DELETE FROM schema_migrations`.execute(trx)),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('the scope is transaction-local: the pooled connection is clean afterwards', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('search_path', $1, true), set_config('role', $2, true)`, [`"${a.schema_name}"`, a.schema_name]);
      await client.query('COMMIT');
      const after = await client.query<{ role: string; search_path: string }>(`SELECT current_user AS role, current_setting('search_path') AS search_path`);
      expect(after.rows[0]!.role).not.toBe(a.schema_name);
      expect(after.rows[0]!.search_path).not.toContain(a.schema_name);
    } finally {
      client.release();
    }
  });
});
