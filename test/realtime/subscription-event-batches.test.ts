import type { KyselyPlugin } from 'kysely';
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

    // Both tenants' changes committed in one statement, so their notifications arrive together.
    const deploy = 'mutation($p: ID!) { createDeployment(input: { projectId: $p, environment: "staging" }) { id } }';
    const [acmeDeployment, globexDeployment] = await Promise.all([
      server.graphql<{ createDeployment: { id: string } }>(acme.slug, deploy, { p: acmeProject }, { as: 'member' }),
      server.graphql<{ createDeployment: { id: string } }>(globex.slug, deploy, { p: globexProject }, { as: 'member' }),
    ]);
    const acmeId = acmeDeployment.body.data!.createDeployment.id;
    const globexId = globexDeployment.body.data!.createDeployment.id;

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
