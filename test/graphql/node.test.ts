import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const NODE = `query($id: ID!) { node(id: $id) { __typename id ... on Project { name } ... on Deployment { status project { name } } } }`;

describe('Relay nodes', () => {
  let server: TestServer;
  let a: Tenant;
  let b: Tenant;
  let projectOfA: string;

  beforeAll(async () => {
    server = await startTestServer();
    const template = await tenantTemplate();
    [a, b] = await Promise.all([seedTenant(server.database, template, 'node_a'), seedTenant(server.database, template, 'node_b')]);
    projectOfA = await withTenantTransaction(server.database, a, {}, async (db) => {
      const project = await db.insertInto('projects').values({ name: 'alpha' }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('deployments').values({ project_id: project.id, status: 'active' }).execute();
      return project.id;
    });
  });
  afterAll(() => server.close());

  it('node(id) fetches any type by its global id, and ids round-trip', async () => {
    const id = encodeGlobalID('Project', projectOfA);
    const response = await server.graphql(a.slug, NODE, { id });
    expect(response.body).toEqual({ data: { node: { __typename: 'Project', id, name: 'alpha' } } });

    const listed = await server.graphql<{ deployments: { edges: { node: { id: string } }[] } }>(a.slug, '{ deployments { edges { node { id } } } }');
    const deploymentId = listed.body.data!.deployments.edges[0]!.node.id;
    const deployment = await server.graphql(a.slug, NODE, { id: deploymentId });
    expect(deployment.body.data).toEqual({ node: { __typename: 'Deployment', id: deploymentId, status: 'ACTIVE', project: { name: 'alpha' } } });
  });

  it("another tenant's global id resolves to nothing, with NOT_FOUND", async () => {
    const response = await server.graphql(b.slug, NODE, { id: encodeGlobalID('Project', projectOfA) });
    expect(response.body.data).toEqual({ node: null });
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND' });
  });

  it("a mutation given another tenant's id finds nothing and changes nothing there", async () => {
    const [workflowOfA, deploymentOfA] = await withTenantTransaction(server.database, a, {}, async (db) => [
      (await db.insertInto('workflows').values({ name: 'keep me' }).returning('id').executeTakeFirstOrThrow()).id,
      (await db.selectFrom('deployments').select('id').executeTakeFirstOrThrow()).id,
    ]);
    const attempts: [string, Record<string, unknown>][] = [
      ['mutation($id: ID!) { deleteWorkflow(id: $id) { deletedId } }', { id: encodeGlobalID('Workflow', workflowOfA) }],
      ['mutation($id: ID!) { updateWorkflow(input: { id: $id, name: "taken over" }) { id } }', { id: encodeGlobalID('Workflow', workflowOfA) }],
      ['mutation($id: ID!) { updateDeploymentStatus(input: { id: $id, status: BUILDING }) { id } }', { id: encodeGlobalID('Deployment', deploymentOfA) }],
      ['mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: encodeGlobalID('Project', projectOfA) }],
    ];
    for (const [query, variables] of attempts) {
      const response = await server.graphql(b.slug, query, variables);
      expect([query, response.body.errors?.[0]?.extensions?.code]).toEqual([query, 'NOT_FOUND']);
    }
    // Positive control: the same delete at its own tenant does find the row.
    const after = await withTenantTransaction(server.database, a, { readOnly: true }, async (db) => ({
      workflow: await db.selectFrom('workflows').select('name').where('id', '=', workflowOfA).executeTakeFirst(),
      deployment: await db.selectFrom('deployments').select(['status']).where('id', '=', deploymentOfA).executeTakeFirstOrThrow(),
      deployments: Number((await db.selectFrom('deployments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n),
    }));
    expect(after).toEqual({ workflow: { name: 'keep me' }, deployment: { status: 'active' }, deployments: 1 });
    const own = await server.graphql(a.slug, 'mutation($id: ID!) { deleteWorkflow(id: $id) { deletedId } }', { id: encodeGlobalID('Workflow', workflowOfA) });
    expect(own.body.errors).toBeUndefined();
  });

  it('a malformed global id, or one that does not hold a uuid, is a typed error and runs no failing SQL', async () => {
    for (const id of ['nonsense', encodeGlobalID('Project', "x' OR 1=1"), encodeGlobalID('NoSuchType', projectOfA)]) {
      const response = await server.graphql(a.slug, NODE, { id });
      expect(response.body.data).toEqual({ node: null });
      expect(response.body.errors?.[0]?.extensions, id).toEqual({ code: 'BAD_USER_INPUT', field: 'id' });
    }
  });
});
