import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { seedFingerprintedRows } from '../helpers/fingerprints.js';
import { fuzz, leakySessionScope } from '../helpers/isolation-fuzz.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer } from '../helpers/test-server.js';

const TENANTS = 24;
const REQUESTS = 3_000;
const IN_FLIGHT = 96;

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
      const outcome = await fuzz(server, tenants, { requests: REQUESTS, inFlight: IN_FLIGHT });
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
      const outcome = await fuzz(server, tenants, { requests: REQUESTS, inFlight: IN_FLIGHT });
      console.log(`isolation fuzz, leaky control: ${JSON.stringify(outcome)}`);
      expect(outcome.foreignRows).toBeGreaterThan(0);
    } finally {
      await server.close();
      await leakyDatabase.close();
    }
  });
});
