import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { openDatabase, type Database } from '../../../src/db/database.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { seedTenant, tenantTemplate, testConfig } from '../../helpers/test-database.js';
import { startTestServer } from '../../helpers/test-server.js';

/** Every connection the pool holds, checked out at once and inspected. */
async function inspectPool(database: Database): Promise<{ pid: number; role: string; path: string; timeout: string }[]> {
  const clients = await Promise.all(Array.from({ length: database.pool.totalCount }, () => database.pool.connect()));
  try {
    return await Promise.all(
      clients.map(async (client) => {
        const { rows } = await client.query<{ pid: number; role: string; path: string; timeout: string }>(
          `SELECT pg_backend_pid() AS pid, current_user AS role, current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout`,
        );
        return rows[0]!;
      }),
    );
  } finally {
    for (const client of clients) client.release();
  }
}

describe('pooled connections after failures', () => {
  let database: Database;
  let tenant: Tenant;

  beforeAll(async () => {
    database = await openDatabase(testConfig({ poolSize: 6 }));
    tenant = await seedTenant(database, await tenantTemplate(), 'hygiene');
  });
  afterAll(() => database.close());

  it('after failed mutations, statement timeouts, a killed backend and aborted transactions, no pooled connection keeps a tenant scope', async () => {
    const server = await startTestServer({ database });
    try {
      // Failed mutations (rolled back) and failed reads, concurrently.
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          server.graphql(tenant.slug, i % 2 ? 'mutation { createProject(input: { name: "" }) { id } }' : '{ node(id: "bad") { id } }'),
        ),
      );
      // A statement cancelled by its timeout.
      await expect(
        withTenantTransaction(database, tenant, { statementTimeoutMs: 50 }, (db) => sql`SELECT pg_sleep(1)`.execute(db)),
      ).rejects.toMatchObject({ code: '57014' });
      // An error swallowed inside the transaction leaves it aborted: a write must not pass for success.
      await expect(
        withTenantTransaction(database, tenant, {}, async (db) => {
          await sql`SELECT 1/0`.execute(db).catch(() => undefined);
          return 'looked fine';
        }),
      ).rejects.toThrow(/aborted/);
      // A backend killed mid-transaction: its connection must be destroyed, not reused.
      let killed = 0;
      const killer = await openDatabase(testConfig({ poolSize: 1 }));
      try {
        await expect(
          withTenantTransaction(database, tenant, {}, async (db) => {
            const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
            killed = rows[0]!.pid;
            await sql`SELECT pg_terminate_backend(${killed})`.execute(killer.control);
            await sql`SELECT 1`.execute(db);
          }),
        ).rejects.toBeDefined();
      } finally {
        await killer.close();
      }
      const connections = await inspectPool(database);
      expect(connections.length).toBeGreaterThan(0);
      expect(killed).toBeGreaterThan(0);
      expect(connections.map((c) => c.pid)).not.toContain(killed);
      for (const connection of connections) {
        expect(connection.role).not.toMatch(/^tenant_/);
        expect(connection.path).not.toMatch(/tenant_/);
        expect(connection.timeout).toBe('0');
      }
      // And the pool still serves.
      expect((await server.graphql(tenant.slug, '{ projects { totalCount } }')).body.errors).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
