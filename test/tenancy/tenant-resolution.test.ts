import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { restoreTenant, resumeTenant, softDeleteTenant, suspendTenant } from '../../src/control/tenants/tenant-lifecycle.service.js';
import { createTenant } from '../../src/control/tenants/tenant.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const WHO = '{ tenant { slug } }';

describe('tenant resolution', () => {
  let server: TestServer;
  let controlStatements: string[];
  let acme: Tenant;
  let globex: Tenant;

  beforeAll(async () => {
    controlStatements = [];
    server = await startTestServer({ databaseOptions: { onQuery: (sql) => sql.includes('"control"') && controlStatements.push(sql) } });
    const template = await tenantTemplate();
    [acme, globex] = await Promise.all([seedTenant(server.database, template, 'res_a'), seedTenant(server.database, template, 'res_g')]);
  });
  afterAll(() => server.close());

  const expectError = (response: Awaited<ReturnType<TestServer['graphql']>>, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(response.body.data ?? null).toBeNull();
  };

  it('the X-Tenant-ID header selects the tenant, by slug or by id', async () => {
    expect((await server.graphql(acme.slug, WHO)).body.data).toEqual({ tenant: { slug: acme.slug } });
    expect((await server.graphql(acme.id, WHO)).body.data).toEqual({ tenant: { slug: acme.slug } });
    expect((await server.graphql(acme.id.toUpperCase(), WHO)).body.data).toEqual({ tenant: { slug: acme.slug } });
  });

  it('the /t/<slug>/graphql path and the subdomain select the tenant', async () => {
    const as = { token: await server.tokenFor(globex.slug, 'viewer') };
    expect((await server.graphql(null, WHO, {}, { as, url: `http://yoga/t/${globex.slug}/graphql` })).body.data).toEqual({ tenant: { slug: globex.slug } });
    expect((await server.graphql(null, WHO, {}, { as, url: `http://${globex.slug}.localhost:4000/graphql` })).body.data).toEqual({
      tenant: { slug: globex.slug },
    });
    // All sources may be given at once if they agree, including the header by id.
    const agreed = await server.graphql(globex.id, WHO, {}, { as, url: `http://${globex.slug}.localhost/t/${globex.slug}/graphql` });
    expect(agreed.body.data).toEqual({ tenant: { slug: globex.slug } });
  });

  it('no tenant at all gets 400 TENANT_REQUIRED', async () => {
    expectError(await server.graphql(null, WHO), 400, 'TENANT_REQUIRED');
    // www and the bare base domain are not tenants.
    expectError(await server.graphql(null, WHO, {}, { url: 'http://www.localhost/graphql' }), 400, 'TENANT_REQUIRED');
  });

  it('sources that disagree get 400 TENANT_MISMATCH, whichever pair it is', async () => {
    expectError(await server.graphql(acme.slug, WHO, {}, { url: `http://yoga/t/${globex.slug}/graphql` }), 400, 'TENANT_MISMATCH');
    expectError(await server.graphql(acme.slug, WHO, {}, { url: `http://${globex.slug}.localhost/graphql` }), 400, 'TENANT_MISMATCH');
    expectError(await server.graphql(null, WHO, {}, { url: `http://${acme.slug}.localhost/t/${globex.slug}/graphql` }), 400, 'TENANT_MISMATCH');
    expectError(await server.graphql(globex.id, WHO, {}, { url: `http://yoga/t/${acme.slug}/graphql` }), 400, 'TENANT_MISMATCH');
  });

  it('an unknown tenant gets 404 TENANT_NOT_FOUND, and a malformed one 400 INVALID_TENANT_ID', async () => {
    expectError(await server.graphql('nobody_here', WHO), 404, 'TENANT_NOT_FOUND');
    expectError(await server.graphql('00000000-0000-4000-8000-000000000000', WHO), 404, 'TENANT_NOT_FOUND');
    for (const hostile of ["acme' OR 1=1 --", 'ACME', 'pg_catalog', 'a'.repeat(300), 'tenant_x;drop', '../control']) {
      const response = await server.graphql(hostile, WHO);
      expect([400, 404], hostile).toContain(response.status);
      expect(['INVALID_TENANT_ID', 'TENANT_NOT_FOUND'], hostile).toContain(response.body.errors?.[0]?.extensions?.code);
    }
    expectError(await server.graphql(null, WHO, {}, { url: 'http://yoga/t/Bad%20Slug/graphql' }), 400, 'INVALID_TENANT_ID');
    // The usual mistake gets its own hint; anything else only the plain refusal.
    const capitalised = await server.graphql('Acme', WHO);
    expect([capitalised.status, capitalised.body.errors?.[0]?.message]).toEqual([400, 'the X-Tenant-ID header is not a valid tenant slug or id: slugs are lowercase (did you mean "acme"?)']);
    expect((await server.graphql("acme' OR 1=1 --", WHO)).body.errors?.[0]?.message).toBe('the X-Tenant-ID header is not a valid tenant slug or id');
  });

  it('a suspended tenant gets 403 on its next request, from any process, and 200 again once resumed', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'res_s');
    expect((await server.graphql(tenant.slug, WHO)).status).toBe(200);

    // Another process (here: another pool) changes the registry, as the CLI would.
    const other = await openTestDatabase();
    try {
      await suspendTenant(other, tenant.slug);
      const suspended = await eventually(async () => server.graphql(tenant.slug, WHO), (r) => r.status === 403);
      expectError(suspended, 403, 'TENANT_SUSPENDED');

      await softDeleteTenant(other, tenant.slug);
      expectError(await eventually(() => server.graphql(tenant.slug, WHO), (r) => r.status === 404), 404, 'TENANT_NOT_FOUND');

      await restoreTenant(other, await tenantTemplate(), tenant.slug);
      await resumeTenant(other, tenant.slug);
      expect((await eventually(() => server.graphql(tenant.slug, WHO), (r) => r.status === 200)).body.data).toEqual({ tenant: { slug: tenant.slug } });
    } finally {
      await other.close();
    }
  });

  it('a tenant created after a miss resolves at once (the miss cache is invalidated)', async () => {
    const template = await tenantTemplate();
    const slug = `res_late_${Date.now().toString(36)}`;
    expect((await server.graphql(slug, WHO)).status).toBe(404);
    const other = await openTestDatabase();
    try {
      await createTenant(other, template, { slug });
    } finally {
      await other.close();
    }
    expect((await eventually(() => server.graphql(slug, WHO), (r) => r.status === 200)).body.data).toEqual({ tenant: { slug } });
  });

  it('once cached, requests do not query the control plane (registry and signing keys)', async () => {
    const as = { token: await server.tokenFor(acme.slug, 'viewer') };
    await server.graphql(acme.slug, WHO, {}, { as });
    await server.graphql(acme.id, WHO, {}, { as });
    const before = controlStatements.length;
    for (let i = 0; i < 25; i++) {
      const response = await server.graphql(i % 2 ? acme.slug : acme.id, '{ tenant { slug } projects(first: 1) { totalCount } }', {}, { as });
      expect(response.body.errors).toBeUndefined();
    }
    expect(controlStatements.length - before).toBe(0);
    // Control: a lookup the cache has not seen does reach the control plane, so the counter works.
    await server.graphql('never_seen_before', WHO, {}, { as: null });
    expect(controlStatements.length - before).toBe(1);
  });
});
