import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import type { TenantScope } from '../../src/tenancy/tenant-transaction.js';
import { fingerprintsIn, ownerOf, seedFingerprintedRows } from '../helpers/fingerprints.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const TENANTS = 24;
const REQUESTS = 3_000;
const IN_FLIGHT = 96;

const QUERIES = [
  '{ deployments(first: 20, filter: { status: [ACTIVE] }) { edges { node { url project { name } } } } }',
  '{ projects(first: 5) { edges { node { name deployments(first: 3) { edges { node { url } } } } } } }',
  '{ workflows(first: 10, orderBy: OLDEST_FIRST) { totalCount edges { node { name } } } }',
  'query Mixed { tenant { slug } deployments(last: 7) { edges { node { url } } } workflows(first: 3) { edges { node { name } } } }',
];

interface FuzzOutcome {
  readonly requests: number;
  readonly rows: number;
  readonly foreignRows: number;
  readonly failedRequests: number;
}

/**
 * Fires REQUESTS random queries for random tenants, IN_FLIGHT at a time, and
 * counts every fingerprinted value that belongs to a tenant other than the
 * one that asked.
 */
async function fuzz(server: TestServer, tenants: readonly Tenant[]): Promise<FuzzOutcome> {
  let next = 0;
  let rows = 0;
  let foreignRows = 0;
  let failedRequests = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const tenant = tenants[(i * 7919) % tenants.length]!;
      const response = await server.graphql(tenant.slug, QUERIES[i % QUERIES.length]!);
      if (response.status !== 200 || response.body.errors) failedRequests++;
      for (const value of fingerprintsIn(response.body.data)) {
        rows++;
        if (ownerOf(value) !== tenant.slug) foreignRows++;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { requests: REQUESTS, rows, foreignRows, failedRequests };
}

/**
 * The classic bug this product exists to avoid: a session-level SET on
 * whichever pooled connection the pool hands out, then queries on whichever
 * connections the pool hands out next, without the tenant role.
 */
const leakySessionScope: TenantScope = async (database, tenant, _options, work) => {
  await database.pool.query(`SET search_path TO "${tenant.schema_name}"`);
  return work(database.tenant);
};

describe('isolation under concurrency', () => {
  let database: Database;
  let tenants: Tenant[];

  beforeAll(async () => {
    database = await openTestDatabase();
    const template = await tenantTemplate();
    tenants = [];
    for (let i = 0; i < TENANTS; i++) tenants.push(await seedTenant(database, template, `fuzz${i}`));
    await Promise.all(tenants.map((tenant) => seedFingerprintedRows(database, tenant)));
  });
  afterAll(() => database.close());

  it(`${REQUESTS} concurrent requests over ${TENANTS} tenants see 0 foreign rows`, async () => {
    const server = await startTestServer({ database });
    try {
      const outcome = await fuzz(server, tenants);
      console.log(`isolation fuzz: ${JSON.stringify(outcome)}`);
      expect(outcome.failedRequests).toBe(0);
      expect(outcome.rows).toBeGreaterThan(REQUESTS * 5);
      expect(outcome.foreignRows).toBe(0);
    } finally {
      await server.close();
    }

    // Afterwards no pooled connection carries a tenant's role or search_path.
    const clients = await Promise.all(Array.from({ length: database.pool.totalCount }, () => database.pool.connect()));
    expect(clients.length).toBeGreaterThan(0);
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ role: string; path: string }>(`SELECT current_user AS role, current_setting('search_path') AS path`);
        expect(rows[0]!.role).not.toMatch(/^tenant_/);
        expect(rows[0]!.path).not.toMatch(/tenant_/);
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  it('negative control: the same fuzz through a session-level SET does see foreign rows', async () => {
    // Its own pool: the leaky scope leaves search_path set on its connections.
    const leakyDatabase = await openTestDatabase();
    const server = await startTestServer({ database: leakyDatabase, yoga: { tenantScope: leakySessionScope } });
    try {
      const outcome = await fuzz(server, tenants);
      console.log(`isolation fuzz, leaky control: ${JSON.stringify(outcome)}`);
      expect(outcome.foreignRows).toBeGreaterThan(0);
    } finally {
      await server.close();
      await leakyDatabase.close();
    }
  });
});
