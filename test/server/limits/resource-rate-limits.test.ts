import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { createTenantRateLimiter } from '../../../src/server/limits/tenant-rate-limiter.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

/** The machines run Redis on 127.0.0.1:6379; the shared-count test needs it. */
const redisAnswers = await new Promise<boolean>((resolve) => {
  const socket = net.connect(6379, '127.0.0.1');
  socket.once('connect', () => (socket.destroy(), resolve(true)));
  socket.once('error', () => resolve(false));
});

const DEPLOY = 'mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }';
const WORKFLOW = 'mutation($n: String!) { createWorkflow(input: { name: $n }) { id } }';

describe('deployments and workflows per hour, from the plan', () => {
  let server: TestServer;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const plan = `res_${randomBytes(3).toString('hex')}`;
  let [first, second]: Tenant[] = [];
  const projectOf = new Map<string, string>();
  beforeAll(async () => {
    database = await openTestDatabase();
    // A plan of this file's own: two deployments and one workflow an hour.
    await sql`INSERT INTO control.plans (name, requests_per_minute, deployments_per_hour, workflows_per_hour, features) VALUES (${plan}, 1000, 2, 1, '{workflows}')`.execute(database.control);
    server = await startTestServer({ database });
    const template = await tenantTemplate();
    [first, second] = [await seedTenant(database, template, 'res_a', { plan }), await seedTenant(database, template, 'res_b', { plan })];
    for (const tenant of [first!, second!]) {
      const created = await server.graphql<{ createProject: { id: string } }>(tenant.slug, 'mutation { createProject(input: { name: "Hourly" }) { id } }', {}, { as: 'member' });
      projectOf.set(tenant.id, created.body.data!.createProject.id);
    }
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it('past its deployments an hour a tenant gets 429 RATE_LIMITED naming the limit, with Retry-After; another tenant on the plan still deploys; reads go on', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await server.graphql(first!.slug, DEPLOY, { p: projectOf.get(first!.id) }, { as: 'member' }));
    expect(results.slice(0, 2).map((r) => r.body.errors)).toEqual([undefined, undefined]);
    const refused = results[2]!;
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(new RegExp(`^tenant "${first!.slug}" has created the 2 deployments an hour its plan allows: retry in \\d+ s$`)),
      extensions: { code: 'RATE_LIMITED', limit: 'deploymentsPerHour', max: 2 },
    });
    expect(refused.body.data).toBeNull();
    // Nothing of the refused mutation was written.
    const count = await server.graphql<{ deployments: { totalCount: number } }>(first!.slug, '{ deployments { totalCount } }');
    expect(count.body.data?.deployments.totalCount).toBe(2);

    const other = await server.graphql(second!.slug, DEPLOY, { p: projectOf.get(second!.id) }, { as: 'member' });
    expect(other.body.errors).toBeUndefined();
  });

  it('the refusal carries Retry-After within the hour', async () => {
    const token = await server.tokenFor(first!.slug, 'member');
    const response = await server.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': first!.slug, authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: DEPLOY, variables: { p: projectOf.get(first!.id) } }),
    });
    expect(response.status).toBe(429);
    const retry = Number(response.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(3600);
  });

  it('workflows count on their own budget: the second of the hour is refused, deployments untouched by it', async () => {
    const firstWorkflow = await server.graphql(second!.slug, WORKFLOW, { n: 'one' }, { as: 'member' });
    expect(firstWorkflow.body.errors).toBeUndefined();
    const secondWorkflow = await server.graphql(second!.slug, WORKFLOW, { n: 'two' }, { as: 'member' });
    expect([secondWorkflow.status, secondWorkflow.body.errors?.[0]?.extensions]).toEqual([429, expect.objectContaining({ code: 'RATE_LIMITED', limit: 'workflowsPerHour', max: 1 })]);
    // second had one deployment this hour: its second is still within the plan.
    const deployed = await server.graphql(second!.slug, DEPLOY, { p: projectOf.get(second!.id) }, { as: 'member' });
    expect(deployed.body.errors).toBeUndefined();
  });

  it('a mutation rolled back gives its count back: nothing was created', async () => {
    const third = await seedTenant(database, await tenantTemplate(), 'res_c', { plan });
    const project = (await server.graphql<{ createProject: { id: string } }>(third.slug, 'mutation { createProject(input: { name: "Back" }) { id } }', {}, { as: 'member' })).body.data!.createProject.id;
    // The first field counts, the second refuses its input: the whole mutation rolls back. Twice, as the second
    // run of a document is compiled (graphql-jit), which replaces the execute function.
    for (let i = 0; i < 2; i++) {
      const rolledBack = await server.graphql(third.slug, 'mutation($p: ID!) { a: createDeployment(input: { projectId: $p }) { id } b: createDeployment(input: { projectId: "nope" }) { id } }', { p: project }, { as: 'member' });
      expect(rolledBack.body.data).toBeNull();
    }
    // Both of the plan's two an hour are still there.
    for (let i = 0; i < 2; i++) expect((await server.graphql(third.slug, DEPLOY, { p: project }, { as: 'member' })).body.errors).toBeUndefined();
    expect((await server.graphql(third.slug, DEPLOY, { p: project }, { as: 'member' })).status).toBe(429);
  });

  it.runIf(redisAnswers || process.env.CI)('with Redis, two servers share one tenant hourly count', async () => {
    const keyPrefix = `test:resource:${randomBytes(4).toString('hex')}`;
    const [a, b] = [createTenantRateLimiter({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix }), createTenantRateLimiter({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix })];
    try {
      await Promise.all([a.ready(), b.ready()]);
      const tenant = { id: `t-${keyPrefix}` };
      expect((await a.consumeResource(tenant, 'deploymentsPerHour', 2)).allowed).toBe(true);
      expect((await b.consumeResource(tenant, 'deploymentsPerHour', 2)).allowed).toBe(true);
      const third = await a.consumeResource(tenant, 'deploymentsPerHour', 2);
      expect([third.allowed, third.window, third.limit]).toEqual([false, 'hour', 2]);
      // Its own budget: workflows are counted apart.
      expect((await b.consumeResource(tenant, 'workflowsPerHour', 1)).allowed).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
