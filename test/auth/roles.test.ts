import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { UserRole } from '../../src/db/tenant-database.js';
import { seedTenant, tenantTemplate, testConfig } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const READ = '{ deployments(first: 1) { totalCount } }';
const WRITE = 'mutation { createWorkflow(input: { name: "wf" }) { id } }';
const MANAGE = 'mutation($id: ID!) { updateUserRole(input: { userId: $id, role: ADMIN }) { role } }';
const AUDIT = '{ auditLog(first: 5) { totalCount edges { node { action } } } }';

describe('roles', () => {
  let server: TestServer;
  let tenant: Tenant;

  beforeAll(async () => {
    server = await startTestServer();
    tenant = await seedTenant(server.database, await tenantTemplate(), 'roles');
  });
  afterAll(() => server.close());

  const codeOf = async (role: UserRole, query: string, variables: Record<string, unknown> = {}): Promise<string> => {
    const response = await server.graphql(tenant.slug, query, variables, { as: role });
    return String(response.body.errors?.[0]?.extensions?.code ?? 'OK');
  };

  it('viewer reads; member also writes; admin also manages users and reads the audit log', async () => {
    const userId = Buffer.from('User:00000000-0000-4000-8000-000000000000').toString('base64');
    // NOT_FOUND means the role check passed and the resolver ran.
    const matrix: Record<UserRole, string[]> = {
      viewer: [await codeOf('viewer', READ), await codeOf('viewer', WRITE), await codeOf('viewer', MANAGE, { id: userId }), await codeOf('viewer', AUDIT)],
      member: [await codeOf('member', READ), await codeOf('member', WRITE), await codeOf('member', MANAGE, { id: userId }), await codeOf('member', AUDIT)],
      admin: [await codeOf('admin', READ), await codeOf('admin', WRITE), await codeOf('admin', MANAGE, { id: userId }), await codeOf('admin', AUDIT)],
    };
    expect(matrix).toEqual({
      viewer: ['OK', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN'],
      member: ['OK', 'OK', 'FORBIDDEN', 'FORBIDDEN'],
      admin: ['OK', 'OK', 'NOT_FOUND', 'OK'],
    });
  });

  it('a role below the one a field needs gets FORBIDDEN naming the role, and nothing is written', async () => {
    const response = await server.graphql(tenant.slug, 'mutation { createProject(input: { name: "nope" }) { id } }', {}, { as: 'viewer' });
    expect(response.body.errors?.[0]).toMatchObject({
      message: 'Mutation.createProject needs the member role; this token has viewer',
      extensions: { code: 'FORBIDDEN' },
    });
    const count = await server.graphql<{ projects: { totalCount: number } }>(tenant.slug, '{ projects(filter: { search: "nope" }) { totalCount } }');
    expect(count.body.data!.projects.totalCount).toBe(0);
  });

  it('every query and mutation field needs a token unless it is one of the sign-in mutations', async () => {
    const anonymous = (query: string) => server.graphql(tenant.slug, query, {}, { as: null });
    for (const query of [READ, AUDIT, '{ tenant { slug } }', '{ me { id } }', '{ node(id: "x") { id } }', '{ users { totalCount } }', WRITE]) {
      const response = await anonymous(query);
      expect(response.body.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
      expect(response.status, query).toBe(401);
    }
    const login = await anonymous('mutation { login(email: "nobody@x.example", password: "whatever-it-is") { accessToken } }');
    expect(login.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
  });

  it('introspection is open in development and needs a token in production', async () => {
    const introspect = '{ __schema { queryType { name } } }';
    expect((await server.graphql(tenant.slug, introspect, {}, { as: null })).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });

    const production = await startTestServer({ database: server.database, yoga: { config: testConfig({ production: true }) } });
    try {
      const anonymous = await production.graphql(tenant.slug, introspect, {}, { as: null });
      expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(anonymous.body.data ?? null).toBeNull();
      const signedIn = await production.graphql(tenant.slug, introspect, {}, { as: 'viewer' });
      expect(signedIn.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    } finally {
      await production.close();
    }
  });
});
