import { Kysely, PostgresDialect } from 'kysely';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import type { TenantScope } from '../../src/tenancy/tenant-transaction.js';
import { fingerprintsIn, ownerOf } from './fingerprints.js';
import type { TestServer } from './test-server.js';

const QUERIES = [
  '{ deployments(first: 20, filter: { status: [ACTIVE] }) { edges { node { url project { name } } } } }',
  '{ projects(first: 5) { edges { node { name deployments(first: 3) { edges { node { url } } } } } } }',
  '{ workflows(first: 10, orderBy: OLDEST_FIRST) { totalCount edges { node { name } } } }',
  'query Mixed { tenant { slug } deployments(last: 7) { edges { node { url } } } workflows(first: 3) { edges { node { name } } } }',
];

export interface FuzzOutcome {
  readonly requests: number;
  readonly rows: number;
  readonly foreignRows: number;
  readonly failedRequests: number;
}

/**
 * Fires `requests` random queries for random tenants, `inFlight` at a time, and
 * counts every fingerprinted value that belongs to a tenant other than the
 * one that asked.
 */
export async function fuzz(server: TestServer, tenants: readonly Tenant[], { requests: REQUESTS, inFlight: IN_FLIGHT }: { requests: number; inFlight: number }): Promise<FuzzOutcome> {
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
export const leakySessionScope: TenantScope = async (database, tenant, _options, work) => {
  await database.pool.query(`SET search_path TO "${tenant.schema_name}"`);
  return work(unscopedHandle(database));
};

const unscoped = new WeakMap<Database, Kysely<TenantDatabase>>();

/**
 * Tenant tables on the whole pool, each query on whichever connection is
 * free: the handle the product never builds. Never destroyed, as that would
 * end the pool under the Database that owns it.
 */
function unscopedHandle(database: Database): Kysely<TenantDatabase> {
  let db = unscoped.get(database);
  if (!db) {
    db = new Kysely<TenantDatabase>({ dialect: new PostgresDialect({ pool: database.pool }) });
    unscoped.set(database, db);
  }
  return db;
}
