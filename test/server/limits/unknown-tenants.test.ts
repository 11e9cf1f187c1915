import { afterEach, describe, expect, it } from 'vitest';
import type { TenantRegistryOptions } from '../../../src/control/registry/tenant-registry.js';
import { uniqueHost } from '../../helpers/customer-site.js';
import { eventually } from '../../helpers/eventually.js';
import { seedTenant, tenantTemplate, testConfig, uniqueSlug } from '../../helpers/test-database.js';
import { serveOverHttp, startTestServer, type TestServer } from '../../helpers/test-server.js';

const WHO = '{ tenant { slug } }';

/** Each test gets its own registry (its own cache and budget) and counts the control-plane tenant lookups it causes. */
describe('unknown tenants', () => {
  let server: TestServer | undefined;
  afterEach(() => server?.close());

  const start = async (registry: TenantRegistryOptions) => {
    const lookups: string[] = [];
    server = await startTestServer({ registry, yoga: { config: testConfig({ trustProxy: 1 }) }, databaseOptions: { onQuery: (sql) => void ((sql.includes('from "control"."tenants"') || sql.includes('from "control"."tenant_domains"')) && lookups.push(sql)) } });
    return { server, lookups };
  };

  it('the "no such tenant" cache stays at its bound however many slugs are invented', async () => {
    const { server } = await start({ missCacheSize: 50, missBudget: { misses: 10_000, perSeconds: 60 } });
    for (let i = 0; i < 500; i++) expect(await server.registry.findBySlug(uniqueSlug('nobody'))).toBeUndefined();
    expect(server.registry.missCacheSize).toBe(50);
    // Through the API as well: still bounded, and still 404.
    for (let i = 0; i < 20; i++) expect((await server.graphql(uniqueSlug('nobody'), WHO, {}, { as: null })).status).toBe(404);
    expect(server.registry.missCacheSize).toBe(50);
  });

  it('a remembered miss costs no query until it expires, then is asked again', async () => {
    const { server, lookups } = await start({ missTtlMs: 300 });
    const slug = uniqueSlug('nobody');
    expect((await server.graphql(slug, WHO, {}, { as: null })).status).toBe(404);
    expect((await server.graphql(slug, WHO, {}, { as: null })).status).toBe(404);
    expect(lookups).toHaveLength(1);
    expect(server.registry.missCacheSize).toBe(1);
    expect(await eventually(async () => server.registry.missCacheSize, (size) => size === 0)).toBe(0);
    expect((await server.graphql(slug, WHO, {}, { as: null })).status).toBe(404);
    expect(lookups).toHaveLength(2);
  });

  it('a flood of invented slugs costs at most the budgeted control-plane queries, and a known tenant keeps resolving', async () => {
    const { server, lookups } = await start({ missBudget: { misses: 5, perSeconds: 60 } });
    const known = await seedTenant(server.database, await tenantTemplate(), 'flood');
    expect((await server.graphql(known.slug, WHO)).body.data).toEqual({ tenant: { slug: known.slug } });
    const before = lookups.length;
    const codes = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const response = await server.graphql(uniqueSlug('nobody'), WHO, {}, { as: null });
      const code = `${response.status} ${String(response.body.errors?.[0]?.extensions?.code)}`;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(lookups.length - before).toBe(5);
    expect(Object.fromEntries(codes)).toEqual({ '404 TENANT_NOT_FOUND': 5, '429 RATE_LIMITED': 195 });
    const response = await server.graphql(known.slug, WHO);
    expect(response.body).toEqual({ data: { tenant: { slug: known.slug } } });
  });

  it('a flood of invented Hosts from one client spends the same budget: RATE_LIMITED past it, the "no such host" cache bounded, a known tenant unaffected', async () => {
    const { server, lookups } = await start({ missCacheSize: 20, missBudget: { misses: 30, perSeconds: 60 } });
    const known = await seedTenant(server.database, await tenantTemplate(), 'hostflood');
    expect((await server.graphql(known.slug, WHO)).body.data).toEqual({ tenant: { slug: known.slug } });
    const before = lookups.length;
    const codes = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const response = await server.graphql(null, WHO, {}, { url: `http://${uniqueHost('flood')}/graphql`, as: null });
      const code = `${response.status} ${String(response.body.errors?.[0]?.extensions?.code)}`;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ '404 TENANT_NOT_FOUND': 30, '429 RATE_LIMITED': 70 });
    expect(lookups.length - before).toBe(30);
    expect(server.registry.missCacheSize).toBe(20);
    // Beside X-Tenant-ID an invented Host is ignored, but only after a lookup: the flooder is refused there too, without a query.
    const beside = await server.graphql(known.slug, WHO, {}, { url: `http://${uniqueHost('flood')}/graphql` });
    expect([beside.status, beside.body.errors?.[0]?.extensions?.code]).toEqual([429, 'RATE_LIMITED']);
    expect(lookups.length - before).toBe(30);
    // The cached tenant by its own name costs nothing from the budget.
    expect((await server.graphql(known.slug, WHO)).body).toEqual({ data: { tenant: { slug: known.slug } } });
  });

  it('the budget is per client: one address flooding invented slugs does not stop another from resolving an uncached tenant', async () => {
    const { server, lookups } = await start({ missBudget: { misses: 5, perSeconds: 60 } });
    const known = await seedTenant(server.database, await tenantTemplate(), 'perclient');
    const http = await serveOverHttp(server);
    try {
      for (let i = 0; i < 20; i++) await http.graphql(uniqueSlug('nobody'), WHO, {}, { from: '198.51.100.7' });
      expect((await http.graphql(uniqueSlug('nobody'), WHO, {}, { from: '198.51.100.7' })).status).toBe(429);
      // The flooder is refused even for a real tenant that is not cached yet; another address is not.
      server.registry.invalidate({ id: known.id });
      const before = lookups.length;
      expect((await http.graphql(known.slug, WHO, {}, { from: '198.51.100.7' })).status).toBe(429);
      const other = await http.graphql(known.slug, WHO, {}, { from: '203.0.113.9', token: await server.tokenFor(known.slug, 'viewer') });
      expect(other.body).toEqual({ data: { tenant: { slug: known.slug } } });
      expect(lookups.length).toBeGreaterThan(before);
    } finally {
      await http.close();
    }
  });
});
