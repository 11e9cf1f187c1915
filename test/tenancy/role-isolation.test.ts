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

  it('withTenantTransaction leaves the pooled connection clean, after a commit and after a rollback', async () => {
    // What the connection whose backend is `pid` carries now, found among the pool's clients.
    // With `destroy`, that connection is closed afterwards instead of going back to the pool.
    const sessionOf = async (pid: number, options: { destroy?: boolean } = {}) => {
      const clients = await Promise.all(Array.from({ length: database.pool.totalCount }, () => database.pool.connect()));
      let found: { role: string; path: string } | undefined;
      const pids = await Promise.all(
        clients.map(async (client) => {
          const { rows } = await client.query<{ pid: number; role: string; path: string }>(
            `SELECT pg_backend_pid() AS pid, current_user AS role, current_setting('search_path') AS path`,
          );
          if (rows[0]!.pid === pid) found = { role: rows[0]!.role, path: rows[0]!.path };
          return rows[0]!.pid;
        }),
      );
      clients.forEach((client, i) => client.release(options.destroy && pids[i] === pid ? true : undefined));
      return found;
    };
    const pidQuery = sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`;
    const committed = (await withTenantTransaction(database, a, {}, (trx) => pidQuery.execute(trx))).rows[0]!.pid;
    const clean = await sessionOf(committed);
    expect(clean).toBeDefined();
    expect(clean?.role).not.toMatch(/^tenant_/);
    expect(clean?.path).not.toContain(a.schema_name);

    let failed = 0;
    await expect(
      withTenantTransaction(database, a, {}, async (trx) => {
        failed = (await pidQuery.execute(trx)).rows[0]!.pid;
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    const afterRollback = await sessionOf(failed);
    expect(afterRollback).toBeDefined();
    expect(afterRollback?.role).not.toMatch(/^tenant_/);
    expect(afterRollback?.path).not.toContain(a.schema_name);

    // Control: a session-level SET on a pooled connection is what this check finds.
    const leaky = await database.pool.connect();
    const leakyPid = (await leaky.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await leaky.query(`SET search_path TO "${a.schema_name}"`);
    leaky.release();
    expect((await sessionOf(leakyPid, { destroy: true }))?.path).toContain(a.schema_name);
  });

});
