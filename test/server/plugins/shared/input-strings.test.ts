import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../../src/db/control-database.js';
import { startAdminTestServer, type AdminTestServer } from '../../../helpers/admin-server.js';
import { seedTenant, tenantTemplate } from '../../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../../helpers/test-server.js';

const NUL = '\u0000';
const FILTER = 'query($f: DeploymentFilter) { deployments(first: 1, filter: $f) { totalCount } }';
const CREATE = 'mutation($config: JSONObject) { createWorkflow(input: { name: "Nightly", config: $config }) { id } }';
const UPDATE = 'mutation($id: ID!, $config: JSONObject) { updateWorkflow(input: { id: $id, config: $config }) { id } }';
const SEARCH = 'query($f: ProjectFilter) { projects(first: 1, filter: $f) { totalCount } }';

/** Strings that PostgreSQL cannot store (NUL) or that no field needs (huge) are refused, naming the field, before any SQL. */
describe('string inputs', () => {
  let server: TestServer;
  let admin: AdminTestServer;
  let tenant: Tenant;
  let workflowId: string;
  let unexpected: unknown[];

  beforeAll(async () => {
    server = await startTestServer({ yoga: { logError: (error) => unexpected.push(error) } });
    admin = await startAdminTestServer(server.database);
    tenant = await seedTenant(server.database, await tenantTemplate(), 'strings');
    unexpected = [];
    workflowId = (await server.graphql<{ createWorkflow: { id: string } }>(tenant.slug, CREATE, { config: { cron: '0 3 * * *' } })).body.data!.createWorkflow.id;
  });
  beforeEach(() => {
    unexpected = [];
  });
  afterAll(() => {
    expect(unexpected).toEqual([]);
    return server.close();
  });

  const expectRefused = (response: Awaited<ReturnType<TestServer['graphql']>>, field: string) => {
    const error = response.body.errors?.[0];
    expect(error?.extensions, response.text.slice(0, 300)).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(error?.message.startsWith(`${field}:`)).toBe(true);
    expect(response.body.data ?? null).toBeNull();
    expect(response.text).not.toMatch(/unexpected error/i);
    expect(unexpected).toEqual([]);
  };

  it('a NUL in the environment filter, as a literal or a variable', async () => {
    expectRefused(await server.graphql(tenant.slug, '{ deployments(first: 1, filter: { environment: "prod\\u0000uction" }) { totalCount } }'), 'filter.environment');
    expectRefused(await server.graphql(tenant.slug, FILTER, { f: { environment: `prod${NUL}uction` } }), 'filter.environment');
  });

  it('a NUL in a workflow config, on create and on update', async () => {
    expectRefused(await server.graphql(tenant.slug, CREATE, { config: { cron: `0 3 * * *${NUL}` } }), 'input.config');
    expectRefused(await server.graphql(tenant.slug, UPDATE, { id: workflowId, config: { steps: [{ run: `echo${NUL}` }] } }), 'input.config');
    expectRefused(await server.graphql(tenant.slug, `mutation { createWorkflow(input: { name: "N", config: { cron: "x\\u0000" } }) { id } }`), 'input.config');
  });

  it('a NUL in a key of a JSON config', async () => {
    expectRefused(await server.graphql(tenant.slug, CREATE, { config: { [`cr${NUL}on`]: '0 3 * * *' } }), 'input.config');
    expectRefused(await server.graphql(tenant.slug, UPDATE, { id: workflowId, config: { nested: { [`k${NUL}`]: 1 } } }), 'input.config');
  });

  it('a NUL in a password', async () => {
    expectRefused(await server.graphql(tenant.slug, 'mutation($p: String!) { login(email: "a@x.example", password: $p) { accessToken } }', { p: `pw${NUL}` }, { as: null }), 'password');
  });

  it('a 900 KB environment filter, and one over the 32 characters an environment may have', async () => {
    expectRefused(await server.graphql(tenant.slug, FILTER, { f: { environment: 'p'.repeat(900_000) } }), 'filter.environment');
    expectRefused(await server.graphql(tenant.slug, `{ deployments(first: 1, filter: { environment: "${'p'.repeat(900_000)}" }) { totalCount } }`), 'filter.environment');
    expectRefused(await server.graphql(tenant.slug, FILTER, { f: { environment: 'p'.repeat(33) } }), 'filter.environment');
    const fine = await server.graphql<{ deployments: { totalCount: number } }>(tenant.slug, FILTER, { f: { environment: 'p'.repeat(32) } });
    expect(fine.body).toEqual({ data: { deployments: { totalCount: 0 } } });
  });

  it('a huge string in a variable and in a literal', async () => {
    const huge = 'z'.repeat(20_000);
    expectRefused(await server.graphql(tenant.slug, SEARCH, { f: { search: huge } }), 'filter.search');
    expectRefused(await server.graphql(tenant.slug, `{ projects(first: 1, filter: { search: "${huge}" }) { totalCount } }`), 'filter.search');
    expectRefused(await server.graphql(tenant.slug, CREATE, { config: { blob: huge } }), 'input.config');
    expectRefused(await server.graphql(tenant.slug, 'query($c: String) { projects(first: 1, after: $c) { totalCount } }', { c: huge }), 'after');
    expectRefused(await server.graphql(tenant.slug, CREATE, { config: { [huge]: 1 } }), 'input.config');
  });

  it('inside a fragment too', async () => {
    const query = 'query { ...F } fragment F on Query { deployments(first: 1, filter: { environment: "a\\u0000" }) { totalCount } }';
    expectRefused(await server.graphql(tenant.slug, query), 'filter.environment');
  });

  it('the admin API refuses them the same way', async () => {
    const response = await admin.admin('mutation($s: String!) { suspendTenant(slug: $s) { slug } }', { s: `acme${NUL}` });
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'slug' });
    const huge = await admin.admin('query($s: String) { tenants(search: $s) { slug } }', { s: 'x'.repeat(20_000) });
    expect(huge.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'search' });
    const listed = await admin.admin('{ tenants(plan: ["basic", "pro\\u0000"]) { slug } }');
    expect(listed.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'plan[1]' });
  });

  it('ordinary strings, NUL-free and within bounds, still pass', async () => {
    const response = await server.graphql(tenant.slug, CREATE, { config: { cron: '0 3 * * *', note: 'ü'.repeat(5_000), 'ключ': ['a', { b: 'c' }] } });
    expect(response.body.errors).toBeUndefined();
  });
});
