import { encodeGlobalID } from '@pothos/plugin-relay';
import { sql, type KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import { listen, type RunningHttpServer } from '../../src/server/http/http-server.js';
import { withTenantTransaction, type TenantScope } from '../../src/tenancy/tenant-transaction.js';
import { sseSubscribe, type Subscriber } from '../helpers/subscription-clients.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ALL = 'subscription { deploymentChanged { id environment } }';
const PRODUCTION = 'subscription { deploymentChanged(filter: { environment: "production" }) { id environment } }';

/** Each READ ONLY scope an event batch opens: whose schema, and how many statements it sent. */
interface EventScope {
  readonly schema: string;
  statements: number;
}

describe('subscription events run in one batch per tenant', () => {
  let server: TestServer;
  let http: RunningHttpServer;
  const scopes: EventScope[] = [];
  const streams: Subscriber[] = [];
  // Mutations run read-write scopes; only the event batches run READ ONLY ones while the test waits.
  const counting: TenantScope = (database, tenant, options, work) => {
    if (!options.readOnly) return withTenantTransaction(database, tenant, options, work);
    const scope: EventScope = { schema: tenant.schema_name, statements: 0 };
    scopes.push(scope);
    const counter: KyselyPlugin = {
      transformQuery: (args) => (scope.statements++, args.node),
      transformResult: async (args) => args.result,
    };
    return withTenantTransaction(database, tenant, options, (db) => work(db.withPlugin(counter)));
  };

  beforeAll(async () => {
    server = await startTestServer({ yoga: { tenantScope: counting } });
    http = await listen(server.yoga, 0);
  });
  afterAll(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    await http.close({ graceMs: 0, timeoutMs: 1_000 });
    await server.close();
  });

  const subscribe = async (tenant: Tenant, query: string) => {
    const token = await server.tokenFor(tenant.slug, 'viewer');
    const stream = await sseSubscribe(`http://127.0.0.1:${http.port}/graphql`, { 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` }, query);
    streams.push(stream);
    return stream;
  };
  const project = async (tenant: Tenant) =>
    (await server.graphql<{ createProject: { id: string } }>(tenant.slug, 'mutation { createProject(input: { name: "Batch" }) { id } }', {}, { as: 'member' })).body.data!
      .createProject.id;

  it('a change that wakes 20 subscribers is executed in one scope of their tenant, its row read once per distinct filter; another tenant gets a scope of its own', async () => {
    const template = await tenantTemplate();
    const [acme, globex] = [await seedTenant(server.database, template, 'batchacme'), await seedTenant(server.database, template, 'batchglobex')];
    const acmeStreams = await Promise.all(Array.from({ length: 20 }, (_, i) => subscribe(acme, i % 2 ? PRODUCTION : ALL)));
    const globexStreams = await Promise.all(Array.from({ length: 4 }, () => subscribe(globex, ALL)));
    while (server.services.rowChanges.size < 24) await new Promise((resolve) => setTimeout(resolve, 10));
    const [acmeProject, globexProject] = [await project(acme), await project(globex)];
    scopes.length = 0;

    // Both tenants' changes in one transaction of the owner's, so their notifications arrive together, in one read.
    const raw = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
    const [acmeId, globexId] = await server.database.control.transaction().execute(async (trx) => {
      const insert = (tenant: Tenant, projectId: string) =>
        sql<{ id: string }>`INSERT INTO ${sql.id(tenant.schema_name, 'deployments')} (project_id, environment) VALUES (${raw(projectId)}, 'staging') RETURNING id`.execute(trx);
      const [a, g] = [await insert(acme, acmeProject), await insert(globex, globexProject)];
      return [encodeGlobalID('Deployment', a.rows[0]!.id), encodeGlobalID('Deployment', g.rows[0]!.id)];
    });

    // The unfiltered half hears the staging deployment; the production half does not, and is never sent a null.
    const unfiltered = acmeStreams.filter((_, i) => i % 2 === 0);
    for (const [event] of await Promise.all(unfiltered.map((stream) => stream.received(1)))) expect(event).toEqual({ data: { deploymentChanged: { id: acmeId, environment: 'staging' } } });
    for (const [event] of await Promise.all(globexStreams.map((stream) => stream.received(1)))) expect(event).toEqual({ data: { deploymentChanged: { id: globexId, environment: 'staging' } } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(acmeStreams.filter((_, i) => i % 2 === 1).every((stream) => stream.results.length === 0)).toBe(true);

    const acmeScopes = scopes.filter((scope) => scope.schema === acme.schema_name);
    const globexScopes = scopes.filter((scope) => scope.schema === globex.schema_name);
    // One per subscriber before batching: 20 scopes and 20 statements for acme.
    expect(acmeScopes).toEqual([{ schema: acme.schema_name, statements: 2 }]);
    expect(globexScopes).toEqual([{ schema: globex.schema_name, statements: 1 }]);
    expect(scopes).toHaveLength(2);
  });
});

describe('each event in a batch keeps its own statement budget', () => {
  it("a subscriber whose selection needs more statements than allowed gets RESULT_TOO_LARGE; another in the same batch still gets its event", async () => {
    const writer = await startTestServer();
    const limited = await startTestServer({ database: writer.database, yoga: { statementLimits: { maxStatements: 1 } } });
    const http = await listen(limited.yoga, 0);
    const streams: Subscriber[] = [];
    try {
      const tenant = await seedTenant(writer.database, await tenantTemplate(), 'partbudget');
      const subscribe = async (query: string) => {
        const token = await limited.tokenFor(tenant.slug, 'viewer');
        const stream = await sseSubscribe(`http://127.0.0.1:${http.port}/graphql`, { 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` }, query);
        streams.push(stream);
        return stream;
      };
      // Its project, then the project's deployments: two statements of its own, beside the changed row the batch reads for both.
      const heavy = await subscribe('subscription { deploymentChanged { id project { name deployments(first: 1) { totalCount } } } }');
      const light = await subscribe('subscription { deploymentChanged { id project { name } } }');
      while (limited.services.rowChanges.size < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const project = await writer.graphql<{ createProject: { id: string } }>(tenant.slug, 'mutation { createProject(input: { name: "Budget" }) { id } }', {}, { as: 'member' });
      await writer.graphql(tenant.slug, 'mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: project.body.data!.createProject.id }, { as: 'member' });

      const [[lightEvent], [heavyEvent]] = await Promise.all([light.received(1), heavy.received(1)]);
      expect(lightEvent).toMatchObject({ data: { deploymentChanged: { project: { name: 'Budget' } } } });
      expect(lightEvent!.errors).toBeUndefined();
      expect(heavyEvent!.errors?.[0]?.extensions?.code).toBe('RESULT_TOO_LARGE');
    } finally {
      await Promise.all(streams.map((stream) => stream.close()));
      await http.close({ graceMs: 0, timeoutMs: 1_000 });
      await limited.close();
      await writer.close();
    }
  });
});
