import { encodeGlobalID } from '@pothos/plugin-relay';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import { withTenantTransaction, type TenantScope } from '../../src/tenancy/tenant-transaction.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Err = { message: string; extensions?: Record<string, unknown> };

describe('mutations', () => {
  let server: TestServer;
  let tenant: Tenant;

  beforeAll(async () => {
    server = await startTestServer();
    tenant = await seedTenant(server.database, await tenantTemplate(), 'mut');
    await withTenantTransaction(server.database, tenant, {}, (db) =>
      sql`INSERT INTO users (email, name, role) VALUES ('ada@x.example', 'Ada', 'member')`.execute(db),
    );
  });
  afterAll(() => server.close());

  const run = async <T = Record<string, any>>(query: string, variables?: Record<string, unknown>) => server.graphql<T>(tenant.slug, query, variables);
  const audit = () =>
    withTenantTransaction(server.database, tenant, { readOnly: true }, (db) =>
      db.selectFrom('audit_log').select(['action', 'entity_type', 'entity_id', 'details']).orderBy('created_at').orderBy('id').execute(),
    );
  const firstError = (response: { body: { errors?: Err[] } }) => response.body.errors?.[0];

  it('a deployment and a project record who created them: the signed-in user, or nobody for a subject that is not a user here', async () => {
    const ada = await withTenantTransaction(server.database, tenant, { readOnly: true }, (db) =>
      db.selectFrom('users').select('id').where('email', '=', 'ada@x.example').executeTakeFirstOrThrow(),
    );
    const as = async (subject: string) => ({ token: await server.tokenFor(tenant.slug, 'member', subject) });
    const create = async (subject: string, name: string) => {
      const project = await server.graphql<{ createProject: { id: string } }>(tenant.slug, `mutation { createProject(input: { name: "${name}" }) { id } }`, {}, { as: await as(subject) });
      const projectId = project.body.data!.createProject.id;
      const deployment = await server.graphql<{ createDeployment: { createdBy: { name: string } | null } }>(
        tenant.slug,
        'mutation($p: ID!) { createDeployment(input: { projectId: $p }) { createdBy { name } } }',
        { p: projectId },
        { as: await as(subject) },
      );
      const row = await withTenantTransaction(server.database, tenant, { readOnly: true }, (db) =>
        db.selectFrom('projects').select('created_by').where('name', '=', name).executeTakeFirstOrThrow(),
      );
      return { deployedBy: deployment.body.data?.createDeployment.createdBy, projectCreatedBy: row.created_by };
    };
    expect(await create(ada.id, 'By Ada')).toEqual({ deployedBy: { name: 'Ada' }, projectCreatedBy: ada.id });
    // A uuid subject from an identity provider that is no row of users: recorded as nobody, not refused.
    expect(await create('00000000-0000-4000-8000-00000000abcd', 'By IdP')).toEqual({ deployedBy: null, projectCreatedBy: null });
  });

  it('every mutation does its work and writes its audit row in the same transaction', async () => {
    const auditBefore = (await audit()).length;
    const project = await run(`mutation { createProject(input: { name: "Web", description: "site" }) { id name description } }`);
    expect(project.body.errors).toBeUndefined();
    const projectId = project.body.data!.createProject.id as string;
    expect(project.body.data!.createProject).toMatchObject({ name: 'Web', description: 'site' });

    const deployment = await run(
      `mutation($p: ID!) { createDeployment(input: { projectId: $p, environment: "staging", url: "https://web.example/1" }) { id status environment url project { name } } }`,
      { p: projectId },
    );
    expect(deployment.body.data!.createDeployment).toMatchObject({ status: 'PENDING', environment: 'staging', url: 'https://web.example/1', project: { name: 'Web' } });
    const deploymentId = deployment.body.data!.createDeployment.id as string;

    const building = await run(`mutation($id: ID!) { updateDeploymentStatus(input: { id: $id, status: BUILDING }) { status finishedAt } }`, { id: deploymentId });
    expect(building.body.data!.updateDeploymentStatus).toEqual({ status: 'BUILDING', finishedAt: null });
    const active = await run(`mutation($id: ID!) { updateDeploymentStatus(input: { id: $id, status: ACTIVE }) { status finishedAt } }`, { id: deploymentId });
    expect(active.body.data!.updateDeploymentStatus.finishedAt).toEqual(expect.any(String));

    const workflow = await run(`mutation { createWorkflow(input: { name: "Nightly", config: { cron: "0 3 * * *" } }) { id name status config } }`);
    expect(workflow.body.data!.createWorkflow).toMatchObject({ name: 'Nightly', status: 'ACTIVE', config: { cron: '0 3 * * *' } });
    const workflowId = workflow.body.data!.createWorkflow.id as string;
    const updated = await run(`mutation($id: ID!) { updateWorkflow(input: { id: $id, status: PAUSED }) { status name } }`, { id: workflowId });
    expect(updated.body.data!.updateWorkflow).toEqual({ status: 'PAUSED', name: 'Nightly' });
    const deleted = await run(`mutation($id: ID!) { deleteWorkflow(id: $id) { deletedId } }`, { id: workflowId });
    expect(deleted.body.data!.deleteWorkflow).toEqual({ deletedId: workflowId });

    const users = await run(`{ users(first: 1) { edges { node { id role } } } }`);
    const userId = users.body.data!.users.edges[0].node.id as string;
    const promoted = await run(`mutation($id: ID!) { updateUserRole(input: { userId: $id, role: ADMIN }) { role } }`, { id: userId });
    expect(promoted.body.data!.updateUserRole).toEqual({ role: 'ADMIN' });

    const actions = (await audit()).slice(auditBefore).map((row) => [row.action, row.details]);
    expect(actions).toEqual([
      ['project.created', { name: 'Web' }],
      ['deployment.created', expect.objectContaining({ environment: 'staging' })],
      ['deployment.status_changed', { from: 'pending', to: 'building' }],
      ['deployment.status_changed', { from: 'building', to: 'active' }],
      ['workflow.created', { name: 'Nightly' }],
      ['workflow.updated', { changed: ['status'] }],
      ['workflow.deleted', { name: 'Nightly' }],
      ['user.role_changed', { from: 'member', to: 'admin' }],
    ]);
  });

  it('invalid input gets a typed error naming the field, never a masked 500', async () => {
    const project = (await run(`mutation { createProject(input: { name: "Typed" }) { id } }`)).body.data!.createProject.id as string;
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['mutation { createProject(input: { name: "   " }) { id } }', {}, 'BAD_USER_INPUT', 'input.name'],
      [`mutation { createProject(input: { name: "${'x'.repeat(201)}" }) { id } }`, {}, 'BAD_USER_INPUT', 'input.name'],
      ['mutation { createProject(input: { name: "Typed" }) { id } }', {}, 'CONFLICT', 'input.name'],
      ['mutation($p: ID!) { createDeployment(input: { projectId: $p, environment: "Prod!" }) { id } }', { p: project }, 'BAD_USER_INPUT', 'input.environment'],
      ['mutation($p: ID!) { createDeployment(input: { projectId: $p, url: "ftp://x.example" }) { id } }', { p: project }, 'BAD_USER_INPUT', 'input.url'],
      ['mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: encodeGlobalID('Project', '00000000-0000-4000-8000-000000000000') }, 'NOT_FOUND', 'input.projectId'],
      ['mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: encodeGlobalID('Workflow', '00000000-0000-4000-8000-000000000000') }, 'BAD_USER_INPUT', 'input.projectId'],
      ['mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: 'not-a-global-id' }, 'BAD_USER_INPUT', 'input.projectId'],
      ['mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: encodeGlobalID('Project', "1' OR '1'='1") }, 'BAD_USER_INPUT', 'input.projectId'],
      ['mutation($id: ID!) { updateWorkflow(input: { id: $id }) { id } }', { id: encodeGlobalID('Workflow', '00000000-0000-4000-8000-000000000000') }, 'BAD_USER_INPUT', 'input'],
      ['mutation($id: ID!) { deleteWorkflow(id: $id) { deletedId } }', { id: encodeGlobalID('Workflow', '00000000-0000-4000-8000-000000000000') }, 'NOT_FOUND', 'id'],
      [`mutation { createWorkflow(input: { name: "Big", config: { blob: "${'y'.repeat(70_000)}" } }) { id } }`, {}, 'BAD_USER_INPUT', 'input.config'],
      ['{ projects(filter: { search: "' + 'z'.repeat(201) + '" }) { totalCount } }', {}, 'BAD_USER_INPUT', 'filter.search'],
    ];
    for (const [query, variables, code, field] of cases) {
      const response = await run(query, variables);
      expect(firstError(response)?.extensions, query.slice(0, 80)).toEqual({ code, field });
      expect(firstError(response)?.message.startsWith(`${field}:`), firstError(response)?.message).toBe(true);
    }
  });

  it('scalars reject malformed values before any resolver runs, naming the variable', async () => {
    const badUrl = await run('mutation($p: ID!, $u: URL) { createDeployment(input: { projectId: $p, url: $u }) { id } }', { p: 'x', u: 'not a url' });
    expect(firstError(badUrl)).toEqual(expect.objectContaining({ message: expect.stringMatching(/^Variable "\$u" got invalid value/), extensions: { code: 'BAD_USER_INPUT' } }));
    const inline = await run('mutation { createDeployment(input: { projectId: "x", url: "not a url" }) { id } }');
    expect(firstError(inline)).toEqual(
      expect.objectContaining({ message: expect.stringMatching(/Expected value of type "URL"/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    );
    const badDate = await run('query($d: DateTime) { deployments(filter: { createdAfter: $d }) { totalCount } }', { d: 'yesterday' });
    expect(firstError(badDate)).toEqual(expect.objectContaining({ message: expect.stringMatching(/^Variable "\$d"/), extensions: { code: 'BAD_USER_INPUT' } }));
  });

  it('an invalid status transition is refused with the allowed ones', async () => {
    const project = (await run(`mutation { createProject(input: { name: "Flow" }) { id } }`)).body.data!.createProject.id as string;
    const id = (await run(`mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }`, { p: project })).body.data!.createDeployment.id as string;
    const response = await run(`mutation($id: ID!) { updateDeploymentStatus(input: { id: $id, status: ARCHIVED }) { id } }`, { id });
    expect(firstError(response)).toEqual(
      expect.objectContaining({
        message: 'input.status: a pending deployment cannot become archived; allowed: building, failed',
        extensions: { code: 'INVALID_STATUS_TRANSITION', field: 'input.status' },
      }),
    );
  });

  it('a mutation operation is atomic: when its second field fails, the first is rolled back and no data is returned', async () => {
    const auditBefore = (await audit()).length;
    const response = await run(`mutation {
      first: createProject(input: { name: "Kept?" }) { id }
      second: createProject(input: { name: "" }) { id }
    }`);
    expect(response.body.data).toBeNull();
    expect(firstError(response)?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
    const search = await run(`{ projects(filter: { search: "Kept?" }) { totalCount } }`);
    expect(search.body.data!.projects.totalCount).toBe(0);
    expect((await audit()).length).toBe(auditBefore);
  });

  it('the server runs queries READ ONLY and mutations read-write, and READ ONLY refuses writes', async () => {
    // What the server's own transactions are, seen from inside them.
    const seen: string[] = [];
    const recording: TenantScope = (database, scoped, options, work) =>
      withTenantTransaction(database, scoped, options, async (db) => {
        seen.push((await sql<{ transaction_read_only: string }>`SHOW transaction_read_only`.execute(db)).rows[0]!.transaction_read_only);
        return work(db);
      });
    const recorded = await startTestServer({ database: server.database, yoga: { tenantScope: recording } });
    try {
      expect((await recorded.graphql(tenant.slug, '{ projects(first: 1) { totalCount } }')).body.errors).toBeUndefined();
      expect((await recorded.graphql(tenant.slug, 'mutation { createProject(input: { name: "Read-write" }) { id } }')).body.errors).toBeUndefined();
      expect(seen).toEqual(['on', 'off']);
    } finally {
      await recorded.close();
    }
    const attempt = withTenantTransaction(server.database, tenant, { readOnly: true }, (db) =>
      db.insertInto('projects').values({ name: 'sneaky' }).execute(),
    );
    await expect(attempt).rejects.toMatchObject({ code: '25006' });
  });
});
