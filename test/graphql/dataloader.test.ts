import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PAGE = `query Page($first: Int!) {
  deployments(first: $first) {
    totalCount
    edges { node { url project { name } createdBy { name } } }
  }
}`;

describe('DataLoader batching', () => {
  let server: TestServer;
  let tenant: Tenant;
  /** Every round trip to Postgres, counted on the real pool's clients (BEGIN and COMMIT included). */
  let roundTrips = 0;

  beforeAll(async () => {
    const database = await openTestDatabase();
    const counted = new WeakSet<object>();
    database.pool.on('acquire', (client) => {
      if (counted.has(client)) return;
      counted.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        roundTrips++;
        return query(...args);
      };
    });
    // Seeded before the server listens: the creation's notification, landing
    // after the warm-up request, would empty the caches it filled (6 round trips).
    tenant = await seedTenant(database, await tenantTemplate(), 'loader');
    server = await startTestServer({ database });
    // 60 projects and 60 users, so a page of 50 touches 50 distinct parents of each kind.
    await withTenantTransaction(database, tenant, {}, async (db) => {
      await sql`INSERT INTO users (email, name) SELECT 'u' || i || '@x.example', 'User ' || i FROM generate_series(1, 60) i`.execute(db);
      await sql`INSERT INTO projects (name) SELECT 'project ' || i FROM generate_series(1, 60) i`.execute(db);
      await sql`
        INSERT INTO deployments (project_id, created_by, created_at)
        SELECT p.id, u.id, now() - p.n * interval '1 second'
        FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM projects) p
        JOIN (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users) u USING (n)`.execute(db);
    });
  });
  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  let as: { token: string };

  async function tripsFor(first: number): Promise<number> {
    const before = roundTrips;
    const response = await server.graphql<{ deployments: { edges: { node: { project: { name: string } } }[] } }>(tenant.slug, PAGE, { first }, { as });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data!.deployments.edges).toHaveLength(first);
    expect(new Set(response.body.data!.deployments.edges.map((e) => e.node.project.name)).size).toBe(first);
    return roundTrips - before;
  }

  it('a page of deployments with their project and author costs the same round trips for 5, 20 or 50 rows', async () => {
    // The first request also loads the tenant and its signing key into the caches.
    as = { token: await server.tokenFor(tenant.slug, 'viewer') };
    await server.graphql(tenant.slug, '{ tenant { slug } }', {}, { as });
    const counts = [await tripsFor(5), await tripsFor(20), await tripsFor(50)];
    console.log(`round trips per request (5 / 20 / 50 rows): ${counts.join(' / ')}`);
    expect(new Set(counts).size).toBe(1);
    // The scope with the page, its count and projects; the scope with the authors (one batch). A read has no COMMIT.
    expect(counts[0]).toBe(2);
  });

  it('every list brings its totalCount in the page\'s own statement', async () => {
    for (const list of ['users', 'projects', 'deployments']) {
      const before = roundTrips;
      const response = await server.graphql<Record<string, { totalCount: number; edges: unknown[] }>>(
        tenant.slug,
        `{ ${list}(first: 2) { totalCount edges { cursor } } }`,
        {},
        { as },
      );
      expect([list, response.body.errors]).toEqual([list, undefined]);
      const page = response.body.data![list]!;
      expect(page.edges).toHaveLength(2);
      expect(page.totalCount).toBeGreaterThan(2);
      // The scope with the page and its total, in one round trip.
      expect([list, roundTrips - before]).toEqual([list, 1]);
    }
    // A page with no rows carries no total, so it is counted on its own.
    const before = roundTrips;
    const empty = await server.graphql<{ users: { totalCount: number } }>(tenant.slug, '{ users(first: 2, filter: { search: "nobody-at-all" }) { totalCount } }', {}, { as });
    expect(empty.body.data?.users.totalCount).toBe(0);
    expect(roundTrips - before).toBe(2);
  });

  it('the total is right on every page, and for an empty page', async () => {
    const total = async (filter: string) =>
      (await server.graphql<{ deployments: { totalCount: number } }>(tenant.slug, `{ deployments(first: 1${filter}) { totalCount } }`, {}, { as })).body.data!.deployments.totalCount;
    const rows = await withTenantTransaction(server.database, tenant, { readOnly: true }, (db) =>
      db.selectFrom('deployments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    );
    expect(await total('')).toBe(Number(rows.n));
    expect(await total(', filter: { environment: "nowhere" }')).toBe(0);
  });

  it('control: the counter does count per row when there is no batching', async () => {
    const before = roundTrips;
    await withTenantTransaction(server.database, tenant, { readOnly: true }, async (db) => {
      const rows = await db.selectFrom('deployments').select('project_id').limit(10).execute();
      for (const row of rows) await db.selectFrom('projects').select('name').where('id', '=', row.project_id).execute();
    });
    // One per statement, each with its scope: the first select, then one per row.
    expect(roundTrips - before).toBe(1 + 10);
  });
});
