import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { seedTenant, tenantTemplate, testConfig } from '../helpers/test-database.js';

/**
 * A backend keeps the catalog entries of every schema it touched, so a pooled
 * connection is replaced once it has served PG_CONNECTION_MAX_SCHEMAS
 * distinct tenant schemas. With one connection in the pool, its backend pid
 * shows when that happens.
 */
describe('pooled connections retire after serving their share of schemas', () => {
  const opened: Database[] = [];
  let tenants: Tenant[];
  beforeAll(async () => {
    const seeding = await openDatabase(testConfig({ poolSize: 2 }));
    opened.push(seeding);
    const template = await tenantTemplate();
    tenants = [await seedTenant(seeding, template, 'retire'), await seedTenant(seeding, template, 'retire'), await seedTenant(seeding, template, 'retire')];
  });
  afterAll(() => Promise.all(opened.map((database) => database.close())));

  const backendOf = async (database: Database, tenant: Tenant, readOnly: boolean) =>
    withTenantTransaction(database, tenant, { readOnly }, async (db) => (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid);

  it('a backend serves its two schemas, one of them again, and is replaced once it has served the second', async () => {
    const database = await openDatabase(testConfig({ poolSize: 1, connectionMaxSchemas: 2 }));
    opened.push(database);
    const [a, b, c] = tenants as [Tenant, Tenant, Tenant];
    const first = await backendOf(database, a, true);
    // A schema seen before does not count again.
    expect(await backendOf(database, a, false)).toBe(first);
    // The second distinct schema is still served by it; the connection is closed as it goes back.
    expect(await backendOf(database, b, true)).toBe(first);
    const next = await backendOf(database, c, true);
    expect(next).not.toBe(first);
    // A request that sent nothing served no schema.
    await withTenantTransaction(database, a, { readOnly: true }, async () => 'from memory');
    expect(await backendOf(database, c, true)).toBe(next);
    // Its backend exits (the client's end is asynchronous, so allow it a moment).
    const alive = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${first}`.execute(database.control)).rows[0]!.n;
    const deadline = Date.now() + 2_000;
    while ((await alive()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await alive()).toBe(0);
  });

  it('negative control: with PG_CONNECTION_MAX_SCHEMAS=0 one backend serves every schema', async () => {
    const database = await openDatabase(testConfig({ poolSize: 1, connectionMaxSchemas: 0 }));
    opened.push(database);
    const pids = new Set<number>();
    for (const tenant of [...tenants, ...tenants]) pids.add(await backendOf(database, tenant, true));
    expect(pids.size).toBe(1);
  });
});
