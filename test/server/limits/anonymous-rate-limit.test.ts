import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config.js';
import type { Tenant } from '../../../src/db/control-database.js';
import { openTestDatabase, seedTenant, tenantTemplate, testConfig } from '../../helpers/test-database.js';
import { serveOverHttp, startTestServer, type HttpTestClient, type TestServer } from '../../helpers/test-server.js';

const PING = '{ __typename }';
const READ = '{ projects { totalCount } }';
/** A sign-in attempt: what the tenant's shared anonymous budget exists for. */
const KNOCK = 'mutation { login(email: "nobody@example.org", password: "not the password") { user { email } } }';
const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => response.body.errors?.[0]?.extensions?.code;
const limitOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => response.body.errors?.[0]?.extensions?.limit;

/** Small limits: 100 a minute with a token, 5 per address and 8 per tenant without. */
const LIMITS: Partial<Config> = { rateLimitPerMinute: 100, anonymousRateLimitPerAddress: 5, anonymousRateLimitPerTenant: 8 };

describe('requests without a token have their own budgets', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let tenants: Tenant[];
  const servers: { server: TestServer; http: HttpTestClient }[] = [];

  beforeAll(async () => {
    database = await openTestDatabase();
    const template = await tenantTemplate();
    tenants = await Promise.all(['anon_a', 'anon_b', 'anon_c', 'anon_d', 'anon_e'].map((slug) => seedTenant(database, template, slug)));
  });
  afterAll(async () => {
    for (const { server, http } of servers) await http.close(), await server.close();
    await database.close();
  });

  const serve = async (config: Partial<Config>) => {
    const server = await startTestServer({ database, yoga: { config: testConfig({ ...LIMITS, ...config }) } });
    const http = await serveOverHttp(server);
    servers.push({ server, http });
    return { server, http };
  };
  const flood = async (http: HttpTestClient, tenant: Tenant, from: string, count: number, query = PING) => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push((await http.graphql(tenant.slug, query, {}, { from })).status);
    return statuses;
  };

  it('an address flooding a tenant without a token gets 429, while the tenant admin gets 200 with its budget untouched', async () => {
    const { server, http } = await serve({ trustProxy: 1 });
    const tenant = tenants[0]!;
    expect(await flood(http, tenant, '203.0.113.1', 5)).toEqual([200, 200, 200, 200, 200]);
    const over = await http.graphql(tenant.slug, PING, {}, { from: '203.0.113.1' });
    expect(over.status).toBe(429);
    expect(limitOf(over)).toBe('anonymousPerAddressPerMinute');
    expect(over.body.errors?.[0]?.message).toMatch(/^this address is over 5 requests a minute without a token: retry in \d+ s$/);
    expect(over.headers.get('x-ratelimit-limit')).toBe('5');
    expect(over.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);

    const admin = await http.graphql(tenant.slug, '{ tenant { slug } }', {}, { from: '203.0.113.1', token: await server.tokenFor(tenant.slug, 'admin') });
    expect(admin.status).toBe(200);
    expect(admin.body.data).toEqual({ tenant: { slug: tenant.slug } });
    expect(admin.headers.get('x-ratelimit-limit')).toBe('100');
    expect(admin.headers.get('x-ratelimit-remaining')).toBe('99');
  });

  it('a second address is not blocked by the first, and the per-tenant ceiling holds across addresses', async () => {
    const { http } = await serve({ trustProxy: 1 });
    const [tenant, other] = [tenants[1]!, tenants[2]!];
    expect(await flood(http, tenant, '203.0.113.1', 6, KNOCK)).toEqual([200, 200, 200, 200, 200, 429]);
    // The refused sixth did not count for the tenant: 5 of its 8 are spent.
    const second = await http.graphql(tenant.slug, KNOCK, {}, { from: '203.0.113.2' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-ratelimit-remaining')).toBe('2');
    expect(await flood(http, tenant, '203.0.113.2', 2, KNOCK)).toEqual([200, 200]);
    const ceiling = await http.graphql(tenant.slug, KNOCK, {}, { from: '203.0.113.3' });
    expect(ceiling.status).toBe(429);
    expect(limitOf(ceiling)).toBe('anonymousPerTenantPerMinute');
    expect(ceiling.headers.get('x-ratelimit-limit')).toBe('8');
    // Another tenant has its own anonymous ceiling.
    expect((await http.graphql(other.slug, KNOCK, {}, { from: '203.0.113.3' })).status).toBe(200);
  });

  it('meta fields and refresh from many addresses spend only their addresses\' budgets, so strangers cannot end a tenant\'s sessions', async () => {
    const { http } = await serve({ trustProxy: 1 });
    const tenant = tenants[4]!;
    const REFRESH = 'mutation { refresh(refreshToken: "not a token") { accessToken } }';
    for (const from of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      expect(await flood(http, tenant, from, 3, PING)).toEqual([200, 200, 200]);
      expect(await flood(http, tenant, from, 2, REFRESH)).toEqual([200, 200]);
    }
    // 15 requests over the tenant's 8, and its budget is untouched: a sign-in from a fourth address counts as its first.
    const knock = await http.graphql(tenant.slug, KNOCK, {}, { from: '198.51.100.4' });
    expect(knock.status).toBe(200);
    expect(knock.headers.get('x-ratelimit-remaining')).toBe('4');
  });

  it('IPv6 addresses in one /64 share a budget', async () => {
    const { http } = await serve({ trustProxy: 1 });
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push((await http.graphql(tenants[3]!.slug, PING, {}, { from: `2001:db8:0:7::${i.toString(16)}` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: the socket address counts', async () => {
    const { http } = await serve({ trustProxy: 0, anonymousRateLimitPerTenant: 1_000 });
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push((await http.graphql(tenants[3]!.slug, PING, {}, { from: `198.51.100.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('an operation without a token that needs one is refused UNAUTHENTICATED before the database or any budget', async () => {
    const { server } = await serve({ anonymousRateLimitPerAddress: 1_000 });
    const tenant = tenants[2]!;
    // Warms the registry, plan and key caches, whose first reads would count.
    expect((await server.graphql(tenant.slug, '{ tenant { slug } }')).status).toBe(200);
    let checkouts = 0;
    server.database.pool.on('acquire', () => checkouts++);
    const cases = [
      READ,
      'query { ...Q } fragment Q on Query { projects { totalCount } }',
      '{ __typename ... on Query { users(first: 1) { totalCount } } }',
      'mutation { createProject(input: { name: "x" }) { id } }',
      'mutation { login(email: "a@b.example", password: "x") { accessToken } inviteUser(input: { email: "c@d.example", name: "C", role: ADMIN }) { id } }',
    ];
    for (const query of cases) {
      const response = await server.graphql(tenant.slug, query, {}, { as: null });
      expect(codeOf(response), `${query}: ${response.text.slice(0, 200)}`).toBe('UNAUTHENTICATED');
      expect(response.body.data ?? null).toBeNull();
    }
    expect(checkouts).toBe(0);
    // The refusals spent nothing: the tenant's anonymous budget (8) is whole; a sign-in, which may go ahead, reaches the database.
    const login = await server.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug },
      body: JSON.stringify({ query: 'mutation { login(email: "nobody@anon.example", password: "wrong") { accessToken } }' }),
    });
    expect(((await login.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('INVALID_CREDENTIALS');
    expect(login.headers.get('x-ratelimit-remaining')).toBe('7');
    expect(checkouts).toBeGreaterThan(0);
  });
});
