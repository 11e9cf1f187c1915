import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TenantConcurrency } from '../../src/server/limits/tenant-concurrency.js';
import { withTenantTransaction, type TenantScope } from '../../src/tenancy/tenant-transaction.js';
import { MAX_OPERATIONS_PER_SOCKET, serveGraphqlWs, type GraphqlWsServer } from '../../src/server/http/graphql-ws.js';
import { listen, type RunningHttpServer } from '../../src/server/http/http-server.js';
import { sseSubscribe, type Subscriber, type SubscriptionResult } from '../helpers/subscription-clients.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const DEPLOYMENTS = 'subscription { deploymentChanged { id } }';

describe('subscription limits: per connection, per plan, and counted in /metrics', () => {
  let server: TestServer;
  let http: RunningHttpServer;
  let ws: GraphqlWsServer;
  const clients: Client[] = [];
  const streams: Subscriber[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    http = await listen(server.yoga, 0);
    ws = serveGraphqlWs(http.server, server.yoga);
  });
  afterAll(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    await Promise.all(clients.map((client) => client.dispose()));
    await Promise.all([ws.close(), http.close({ graceMs: 0, timeoutMs: 1_000 })]);
    await server.close();
  });

  const opened = async (count: number) => {
    const deadline = Date.now() + 3_000;
    while (server.services.rowChanges.size < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return server.services.rowChanges.size;
  };
  /** One graphql-ws connection; `subscribe` resolves with the refusal's errors, or stays pending while the stream is open. */
  const socket = async (slug: string) => {
    const token = await server.tokenFor(slug, 'viewer');
    const client = createClient({ url: `ws://127.0.0.1:${http.port}/t/${slug}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    clients.push(client);
    return (query = DEPLOYMENTS) =>
      new Promise<NonNullable<SubscriptionResult['errors']>>((resolve) => {
        client.subscribe({ query }, { next: () => undefined, error: (error) => resolve(Array.isArray(error) ? error : []), complete: () => undefined });
      });
  };

  it(`one WebSocket runs at most ${MAX_OPERATIONS_PER_SOCKET} operations; the tenant's next socket still may`, async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'sockcap');
    const before = server.services.rowChanges.size;
    const subscribe = await socket(tenant.slug);
    for (let i = 0; i < MAX_OPERATIONS_PER_SOCKET; i++) void subscribe();
    expect(await opened(before + MAX_OPERATIONS_PER_SOCKET)).toBe(before + MAX_OPERATIONS_PER_SOCKET);
    const refusal = await subscribe();
    expect(refusal[0]).toMatchObject({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'maxPerConnection', max: MAX_OPERATIONS_PER_SOCKET } });
    expect(server.services.rowChanges.size).toBe(before + MAX_OPERATIONS_PER_SOCKET);
    // Negative control: the refusal was the socket's, not the tenant's.
    void (await socket(tenant.slug))();
    expect(await opened(before + MAX_OPERATIONS_PER_SOCKET + 1)).toBe(before + MAX_OPERATIONS_PER_SOCKET + 1);
  });

  it("a tenant past its plan's maxSubscriptions is refused naming the plan, and /metrics counts open subscriptions per tenant", async () => {
    const plan = `subs_two_${randomBytes(3).toString('hex')}`;
    await sql`INSERT INTO control.plans (name, requests_per_minute, max_subscriptions) VALUES (${plan}, 100000, 2)`.execute(server.database.control);
    const template = await tenantTemplate();
    const [small, other] = [await seedTenant(server.database, template, 'subplan', { plan }), await seedTenant(server.database, template, 'subplan', { plan })];
    const sse = async (slug: string) => {
      const stream = await sseSubscribe(`http://127.0.0.1:${http.port}/graphql`, { 'x-tenant-id': slug, authorization: `Bearer ${await server.tokenFor(slug, 'viewer')}` }, DEPLOYMENTS);
      streams.push(stream);
      return stream;
    };
    const before = server.services.rowChanges.size;
    await sse(small.slug);
    await sse(small.slug);
    expect(await opened(before + 2)).toBe(before + 2);
    const third = await sse(small.slug);
    await third.ended;
    expect(third.results.at(-1)?.errors?.[0]).toMatchObject({
      message: `this tenant has 2 subscriptions open on this server and its plan "${plan}" allows 2 (maxSubscriptions): close one or change plans`,
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'maxSubscriptions', max: 2, plan },
    });
    // The plan limits each tenant on it, not the plan as a whole.
    await sse(other.slug);
    expect(await opened(before + 3)).toBe(before + 3);

    const scraped = await server.services.metrics.registry.metrics();
    expect(scraped).toContain(`schemata_subscriptions{tenant="${small.slug}"} 2`);
    expect(scraped).toContain(`schemata_subscriptions{tenant="${other.slug}"} 1`);
  });

  it("a change fanned out to more subscribers than the tenant's share of the pool and its queue reaches every one, and the tenant's requests still run", async () => {
    // Two connections and five waiting places for the tenant: twenty subscribers loading at once would be refused TENANT_BUSY.
    const tight = await startTestServer({ database: server.database, yoga: { tenantConcurrency: new TenantConcurrency({ perTenant: 2, total: 4, maxWaiting: 5 }) } });
    const tightHttp = await listen(tight.yoga, 0);
    try {
      const tenant = await seedTenant(tight.database, await tenantTemplate(), 'fanout');
      const token = await tight.tokenFor(tenant.slug, 'viewer');
      const subscribers = await Promise.all(
        Array.from({ length: 20 }, () => sseSubscribe(`http://127.0.0.1:${tightHttp.port}/graphql`, { 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` }, DEPLOYMENTS)),
      );
      streams.push(...subscribers);
      const project = await tight.graphql<{ createProject: { id: string } }>(tenant.slug, 'mutation { createProject(input: { name: "Fan" }) { id } }', {}, { as: 'member' });
      const created = await tight.graphql<{ createDeployment: { id: string } }>(
        tenant.slug,
        'mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }',
        { p: project.body.data!.createProject.id },
        { as: 'member' },
      );
      const id = created.body.data!.createDeployment.id;
      // While the fan-out loads, the tenant's own reads are served.
      const read = await tight.graphql<{ projects: { totalCount: number } }>(tenant.slug, '{ projects { totalCount } }');
      expect(read.body.errors).toBeUndefined();
      const received = await Promise.all(subscribers.map((subscriber) => subscriber.received(1, 10_000)));
      for (const [first] of received) expect(first).toEqual({ data: { deploymentChanged: { id } } });
    } finally {
      await tightHttp.close({ graceMs: 0, timeoutMs: 1_000 });
      await tight.close();
    }
  }, 30_000);

  it('an event whose load fails is sent masked, with a code, as the last event of its stream', async () => {
    let failLoads = false;
    const logged: unknown[] = [];
    const failing: TenantScope = (database, tenant, options, work) =>
      failLoads && options.readOnly ? Promise.reject(new Error('relation "secret_table" does not exist')) : withTenantTransaction(database, tenant, options, work);
    const broken = await startTestServer({ database: server.database, yoga: { tenantScope: failing, logError: (error) => logged.push(error) } });
    const brokenHttp = await listen(broken.yoga, 0);
    try {
      const tenant = await seedTenant(broken.database, await tenantTemplate(), 'maskload');
      const stream = await sseSubscribe(`http://127.0.0.1:${brokenHttp.port}/graphql`, { 'x-tenant-id': tenant.slug, authorization: `Bearer ${await broken.tokenFor(tenant.slug, 'viewer')}` }, DEPLOYMENTS);
      streams.push(stream);
      const project = await broken.graphql<{ createProject: { id: string } }>(tenant.slug, 'mutation { createProject(input: { name: "Mask" }) { id } }', {}, { as: 'member' });
      failLoads = true;
      await broken.graphql(tenant.slug, 'mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: project.body.data!.createProject.id }, { as: 'member' });
      await stream.ended;
      expect(stream.results.at(-1)?.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
      expect(JSON.stringify(stream.results)).not.toMatch(/secret_table/);
      expect(String(logged.at(-1))).toMatch(/secret_table/);
    } finally {
      await brokenHttp.close({ graceMs: 0, timeoutMs: 1_000 });
      await broken.close();
    }
  });
});
