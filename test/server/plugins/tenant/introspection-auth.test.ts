import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../../src/db/control-database.js';
import { startAdminTestServer, type AdminTestServer } from '../../../helpers/admin-server.js';
import { seedTenant, tenantTemplate, testConfig } from '../../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../../helpers/test-server.js';

/** Ways to reach __schema or __type without naming them at the top of the operation. */
const HIDDEN_INTROSPECTION: Record<string, string> = {
  'a named fragment': 'query { ...F } fragment F on Query { __schema { mutationType { fields { name args { name } } } } }',
  'nested named fragments': 'query { ...A } fragment A on Query { ...B } fragment B on Query { ... on Query { __schema { types { name } } } }',
  '__type through a fragment': 'query { ...T } fragment T on Query { __type(name: "Mutation") { fields { name } } }',
  'an inline fragment inside a named one': 'query { ...F } fragment F on Query { ... { __type(name: "Query") { name } } }',
  'an aliased __schema in a fragment': 'query { ...F } fragment F on Query { s: __schema { queryType { name } } }',
};

describe('introspection in production', () => {
  let server: TestServer;
  let admin: AdminTestServer;
  let tenant: Tenant;
  beforeAll(async () => {
    server = await startTestServer({ yoga: { config: testConfig({ production: true }) } });
    admin = await startAdminTestServer(server.database);
    tenant = await seedTenant(server.database, await tenantTemplate(), 'introspect');
  });
  afterAll(() => server.close());

  for (const [name, query] of Object.entries(HIDDEN_INTROSPECTION)) {
    it(`without a token, ${name} gets UNAUTHENTICATED and no schema`, async () => {
      const response = await server.graphql(tenant.slug, query, {}, { as: null });
      expect(response.body.errors?.[0]?.extensions?.code, response.text.slice(0, 300)).toBe('UNAUTHENTICATED');
      expect(response.body.data ?? null).toBeNull();
      expect(response.text).not.toMatch(/createWorkflow|"Mutation"|queryType/);
    });

    it(`with a token, ${name} answers`, async () => {
      const response = await server.graphql(tenant.slug, query, {}, { as: 'viewer' });
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data).not.toBeNull();
    });

    it(`the admin API refuses ${name} without a token`, async () => {
      const response = await admin.admin(query, undefined, { token: null });
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(response.body.data ?? null).toBeNull();
    });
  }

  it('an anonymous request that does not introspect still runs (login stays possible)', async () => {
    const response = await server.graphql(tenant.slug, 'query { ...F } fragment F on Query { __typename }', {}, { as: null });
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
  });
});
