import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../../../src/control/tenants/tenant.service.js';
import { suspendTenant } from '../../../../src/control/tenants/tenant-lifecycle.service.js';
import type { Tenant } from '../../../../src/db/control-database.js';
import type { Database } from '../../../../src/db/database.js';
import { createMetrics, type Metrics } from '../../../../src/server/observability/metrics.js';
import { withTenantTransaction } from '../../../../src/tenancy/tenant-transaction.js';
import { eventually } from '../../../helpers/eventually.js';
import { fingerprintsIn, ownerOf, seedFingerprintedRows } from '../../../helpers/fingerprints.js';
import { openTestDatabase, seedTenant, tenantTemplate, testConfig } from '../../../helpers/test-database.js';
import { startTestServer, type GraphQLResponse, type TestServer, type TestServerOverrides } from '../../../helpers/test-server.js';

const PAGE = '{ deployments(first: 10) { totalCount edges { node { url project { name } } } } }';
const PROJECTS = '{ projects(first: 50) { totalCount edges { node { name } } } }';

describe('response cache', () => {
  let database: Database;
  let statements = 0;
  let checkouts = 0;
  let a: Tenant;
  let b: Tenant;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    database = await openTestDatabase({ onQuery: () => void statements++ });
    database.pool.on('acquire', () => void checkouts++);
    const template = await tenantTemplate();
    [a, b] = await Promise.all([seedTenant(database, template, 'cache_a'), seedTenant(database, template, 'cache_b')]);
    await Promise.all([seedFingerprintedRows(database, a), seedFingerprintedRows(database, b)]);
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await database.close();
  });

  /** A server of its own (its own cache, registry and metrics) on the shared pool. */
  async function server(yoga: TestServerOverrides = {}): Promise<TestServer & { metrics: Metrics }> {
    const metrics = createMetrics({ pool: database.pool });
    const started = await startTestServer({ database, yoga: { metrics, ...yoga } });
    servers.push(started);
    return Object.assign(started, { metrics });
  }

  async function lookups(metrics: Metrics): Promise<{ hit: number; miss: number }> {
    const values = (await metrics.registry.getSingleMetric('schemata_response_cache_total')!.get()).values;
    const count = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0;
    return { hit: count('hit'), miss: count('miss') };
  }

  /** What one request cost: pooled connections taken and SQL statements run. */
  async function measured<T>(request: () => Promise<T>): Promise<{ response: T; checkouts: number; statements: number }> {
    const before = { checkouts, statements };
    const response = await request();
    return { response, checkouts: checkouts - before.checkouts, statements: statements - before.statements };
  }

  const as = async (s: TestServer, tenant: Tenant, role: 'viewer' | 'member' | 'admin', subject: string) => ({ as: { token: await s.tokenFor(tenant.slug, role, subject) } });

  it('a repeated query is served from memory: no pooled connection, no SQL, and the rate limit still counts it', async () => {
    const s = await server();
    const init = await as(s, a, 'viewer', 'reader');
    const first = await measured(() => s.fetch('http://yoga/graphql', post(a, PAGE, init.as.token)));
    const second = await measured(() => s.fetch('http://yoga/graphql', post(a, PAGE, init.as.token)));
    expect(first.checkouts).toBeGreaterThan(0);
    expect(first.statements).toBeGreaterThan(0);
    expect(second.checkouts).toBe(0);
    expect(second.statements).toBe(0);
    expect(await second.response.text()).toBe(await first.response.text());
    expect(await lookups(s.metrics)).toEqual({ hit: 1, miss: 1 });
    // The hit went through the rate limit: its headers are there and it used up one request.
    expect(first.response.headers.get('x-ratelimit-limit')).toBe('1000000');
    expect(Number(second.response.headers.get('x-ratelimit-remaining'))).toBe(Number(first.response.headers.get('x-ratelimit-remaining')) - 1);
    expect(second.response.headers.get('x-ratelimit-reset')).not.toBeNull();
  });

  /**
   * Both tenants ask the same queries with tokens for the same subject and
   * role, alternating, so every answer after the first two could come from
   * the cache. Returns how many fingerprinted values in all answers belong to
   * the other tenant.
   */
  async function foreignValues(s: TestServer): Promise<{ foreign: number; own: number }> {
    const tokens = new Map<Tenant, { as: { token: string } }>([
      [a, await as(s, a, 'admin', 'same-user')],
      [b, await as(s, b, 'admin', 'same-user')],
    ]);
    let foreign = 0;
    let own = 0;
    for (let round = 0; round < 3; round++) {
      for (const query of [PAGE, PROJECTS, '{ tenant { slug } }']) {
        for (const tenant of round % 2 ? [b, a] : [a, b]) {
          const response = await s.graphql(tenant.slug, query, {}, tokens.get(tenant));
          expect(response.body.errors).toBeUndefined();
          const values = [...fingerprintsIn(response.body.data), ...slugsIn(response)];
          for (const value of values) (ownerOf(value) === tenant.slug || value === tenant.slug ? own++ : foreign++);
        }
      }
    }
    return { foreign, own };
  }

  it('two tenants asking identical queries for the same user id never get each other’s data', async () => {
    const s = await server();
    const { foreign, own } = await foreignValues(s);
    expect(own).toBeGreaterThan(0);
    expect(foreign).toBe(0);
    // Not vacuous: most of those answers came from the cache.
    expect((await lookups(s.metrics)).hit).toBeGreaterThanOrEqual(12);
  });

  it('negative control: a key that leaves the tenant out does serve one tenant’s data to the other', async () => {
    const s = await server({ responseCacheShareKey: (context) => context.currentUser?.subject ?? null });
    const { foreign } = await foreignValues(s);
    expect(foreign).toBeGreaterThan(0);
  });

  it('users of one tenant do not share: another subject misses, and a viewer never gets an admin’s result under the same subject', async () => {
    const s = await server();
    const AUDIT = '{ auditLog(first: 1) { totalCount } }';
    const admin = await as(s, a, 'admin', 'shared-subject');
    expect((await s.graphql(a.slug, AUDIT, {}, admin)).body.errors).toBeUndefined();
    // The admin's answer is in the cache: asking again is a hit.
    const hitsBefore = (await lookups(s.metrics)).hit;
    expect((await s.graphql(a.slug, AUDIT, {}, admin)).body.errors).toBeUndefined();
    expect((await lookups(s.metrics)).hit).toBe(hitsBefore + 1);
    const viewer = await s.graphql(a.slug, AUDIT, {}, await as(s, a, 'viewer', 'shared-subject'));
    expect(viewer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    await s.graphql(a.slug, PAGE, {}, await as(s, a, 'viewer', 'first-user'));
    const other = await measured(async () => s.graphql(a.slug, PAGE, {}, await as(s, a, 'viewer', 'second-user')));
    expect(other.checkouts).toBeGreaterThan(0);
  });

  it('negative control: a key without the role does serve an admin’s cached result to a viewer', async () => {
    const s = await server({ responseCacheShareKey: (context, generation) => JSON.stringify([context.tenant.id, generation, context.currentUser?.subject]) });
    const AUDIT = '{ auditLog(first: 1) { totalCount } }';
    expect((await s.graphql(a.slug, AUDIT, {}, await as(s, a, 'admin', 'role-blind'))).body.errors).toBeUndefined();
    const viewer = await s.graphql(a.slug, AUDIT, {}, await as(s, a, 'viewer', 'role-blind'));
    expect(viewer.body.errors).toBeUndefined();
    expect(viewer.body.data).toHaveProperty('auditLog.totalCount');
  });

  it('a mutation invalidates its own tenant’s cached results at once, and not another tenant’s', async () => {
    const s = await server();
    const member = { a: await as(s, a, 'member', 'writer'), b: await as(s, b, 'member', 'writer') };
    const count = (r: GraphQLResponse) => (r.body.data as { projects: { totalCount: number } }).projects.totalCount;
    const beforeA = count(await s.graphql(a.slug, PROJECTS, {}, member.a));
    const beforeB = count(await s.graphql(b.slug, PROJECTS, {}, member.b));

    const created = await s.graphql(a.slug, 'mutation { createProject(input: { name: "cache-busting" }) { id } }', {}, member.a);
    expect(created.body.errors).toBeUndefined();

    const afterA = await measured(() => s.graphql(a.slug, PROJECTS, {}, member.a));
    expect(count(afterA.response)).toBe(beforeA + 1);
    expect(afterA.checkouts).toBeGreaterThan(0);
    const afterB = await measured(() => s.graphql(b.slug, PROJECTS, {}, member.b));
    expect(count(afterB.response)).toBe(beforeB);
    expect(afterB.checkouts).toBe(0);
  });

  it('a suspended tenant gets 403, and a token revoked by key rotation 401, although their query was cached', async () => {
    const s = await server();
    const template = await tenantTemplate();
    const [suspended, rotated] = await Promise.all([seedTenant(database, template, 'cache_susp'), seedTenant(database, template, 'cache_rot')]);
    const suspendedToken = await as(s, suspended, 'viewer', 'u');
    const rotatedToken = await as(s, rotated, 'viewer', 'u');
    for (let i = 0; i < 2; i++) {
      expect((await s.graphql(suspended.slug, PROJECTS, {}, suspendedToken)).status).toBe(200);
      expect((await s.graphql(rotated.slug, PROJECTS, {}, rotatedToken)).status).toBe(200);
    }
    expect((await lookups(s.metrics)).hit).toBe(2);

    await suspendTenant(database, suspended.slug);
    const refused = await eventually(() => s.graphql(suspended.slug, PROJECTS, {}, suspendedToken), (r) => r.status === 403);
    expect(refused.status).toBe(403);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('TENANT_SUSPENDED');
    expect(refused.body.data ?? null).toBeNull();

    await rotateSigningKey(database, rotated.slug);
    const revoked = await eventually(() => s.graphql(rotated.slug, PROJECTS, {}, rotatedToken), (r) => r.status !== 200);
    expect(revoked.status).toBe(401);
    expect(revoked.body.errors?.[0]?.extensions?.code).toBe('INVALID_TOKEN');
  });

  it('an answer with errors is not cached', async () => {
    const s = await server();
    const init = await as(s, a, 'viewer', 'erring');
    const TOO_MANY = '{ deployments(first: 1000) { totalCount } }';
    for (let i = 0; i < 2; i++) {
      const { response, checkouts: taken } = await measured(() => s.graphql(a.slug, TOO_MANY, {}, init));
      expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(taken).toBeGreaterThan(0);
    }
    expect(await lookups(s.metrics)).toEqual({ hit: 0, miss: 2 });
  });

  it('a write the server does not see (another instance, the CLI) shows once the TTL has passed', async () => {
    const s = await server({ config: testConfig({ responseCacheTtlMs: 1_000 }) });
    const init = await as(s, a, 'viewer', 'ttl');
    const names = async () => (await s.graphql<{ projects: { edges: { node: { name: string } }[] } }>(a.slug, PROJECTS, {}, init)).body.data!.projects.edges.map((e) => e.node.name);
    expect(await names()).not.toContain('written-elsewhere');
    await withTenantTransaction(database, a, {}, (db) => db.insertInto('projects').values({ name: 'written-elsewhere' }).execute());
    expect(await names()).not.toContain('written-elsewhere');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await names()).toContain('written-elsewhere');
  });

  it('RESPONSE_CACHE_TTL_MS=0 turns the cache off', async () => {
    const s = await server({ config: testConfig({ responseCacheTtlMs: 0 }) });
    const init = await as(s, a, 'viewer', 'uncached');
    await s.graphql(a.slug, PAGE, {}, init);
    const again = await measured(() => s.graphql(a.slug, PAGE, {}, init));
    expect(again.checkouts).toBeGreaterThan(0);
    expect(await lookups(s.metrics)).toEqual({ hit: 0, miss: 0 });
  });
});

function post(tenant: Tenant, query: string, token: string): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  };
}

/** `tenant { slug }` answers name their tenant plainly, without a fingerprint. */
function slugsIn(response: GraphQLResponse): string[] {
  const slug = (response.body.data as { tenant?: { slug: string } } | undefined)?.tenant?.slug;
  return slug ? [slug] : [];
}
