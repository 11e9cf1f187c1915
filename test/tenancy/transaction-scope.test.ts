import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { enterScope, requestScope, scopeStatement } from '../../src/tenancy/transaction-scope.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';

interface Session {
  role: string;
  path: string;
  pid: number;
}
const SESSION = `SELECT current_user AS role, current_setting('search_path') AS path, pg_backend_pid() AS pid`;

describe('the transaction scope', () => {
  let database: Database;
  let tenant: Tenant;
  let owner: string;
  beforeAll(async () => {
    database = await openTestDatabase();
    tenant = await seedTenant(database, await tenantTemplate(), 'scope');
    owner = (await database.pool.query<{ role: string }>('SELECT current_user AS role')).rows[0]!.role;
  });
  afterAll(() => database.close());

  it('a request scope is one parameterless SELECT that BEGIN can carry in the same round trip', () => {
    const schema = tenant.schema_name;
    expect(scopeStatement(requestScope(schema), { statement_timeout: 5_000.7, idle_in_transaction_session_timeout: 10_000 })).toBe(
      `SELECT set_config('search_path', '"${schema}"', true), set_config('role', '${schema}', true), ` +
        `set_config('statement_timeout', '5000', true), set_config('idle_in_transaction_session_timeout', '10000', true)`,
    );
  });

  it.each([
    ['a hostile search_path', { searchPath: `tenant_${'0'.repeat(32)}", public` }, /refusing non-tenant schema name/],
    ['public on search_path', { searchPath: 'public' }, /refusing non-tenant schema name/],
    ['the control schema as a role', { role: 'control' }, /refusing non-tenant schema name/],
    ['a hostile role', { role: `tenant_${'0'.repeat(32)}'; RESET ROLE; --` }, /refusing non-tenant schema name/],
    ['an empty scope', {}, /an empty transaction scope sets nothing/],
  ])('%s is refused before any SQL is built', (_label, scope, refusal) => {
    expect(() => scopeStatement(scope)).toThrow(refusal);
  });

  it('entered on a Kysely transaction, it holds inside and is gone after commit on the same connection', async () => {
    const client = await database.pool.connect();
    try {
      const db = database.bindClient(client);
      const inside = await db.transaction().execute(async (trx) => {
        await enterScope(trx, requestScope(tenant.schema_name));
        return (await sql.raw<Session>(SESSION).execute(trx)).rows[0]!;
      });
      expect(inside).toMatchObject({ role: tenant.schema_name, path: `"${tenant.schema_name}"` });
      const after = (await client.query<Session>(SESSION)).rows[0]!;
      expect(after.pid).toBe(inside.pid);
      expect(after.role).toBe(owner);
      expect(after.path).not.toContain('tenant_');
    } finally {
      client.release();
    }
  });

  it('a migration scope keeps the owner; an export scope keeps the search_path; both end with a rollback', async () => {
    const client = await database.pool.connect();
    try {
      const before = (await client.query<Session>(SESSION)).rows[0]!;
      await client.query('BEGIN');
      await enterScope(client, { searchPath: tenant.schema_name });
      expect((await client.query<Session>(SESSION)).rows[0]).toMatchObject({ role: owner, path: `"${tenant.schema_name}"` });
      await client.query('ROLLBACK');

      await client.query('BEGIN');
      await enterScope(client, { role: tenant.schema_name });
      expect((await client.query<Session>(SESSION)).rows[0]).toMatchObject({ role: tenant.schema_name, path: before.path });
      // The export's role may read the tenant's rows and nothing of the control plane.
      await client.query(`SELECT count(*) FROM "${tenant.schema_name}".users`);
      await expect(client.query('SELECT count(*) FROM control.tenants')).rejects.toMatchObject({ code: '42501' });
      await client.query('ROLLBACK');

      expect((await client.query<Session>(SESSION)).rows[0]).toEqual(before);
    } finally {
      client.release();
    }
  });
});
