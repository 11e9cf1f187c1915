import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { softDeleteTenant, suspendTenant } from '../../src/control/tenants/tenant-lifecycle.service.js';
import { rotateSigningKey } from '../../src/control/tenants/tenant.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import type { UserRole } from '../../src/db/tenant-database.js';
import { serveGraphqlWs, type GraphqlWsServer } from '../../src/server/http/graphql-ws.js';
import { listen, type RunningHttpServer } from '../../src/server/http/http-server.js';
import { sseSubscribe, wsSubscribe, type Subscriber } from '../helpers/subscription-clients.js';
import { seedTenant, tenantTemplate, testConfig } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const DEPLOYMENTS = 'subscription { deploymentChanged { id status } }';

describe('a subscription ends with a code', () => {
  let server: TestServer;
  let http: RunningHttpServer;
  let ws: GraphqlWsServer;
  beforeAll(async () => {
    // Short-lived tokens for the expiry case; the others use tokens minted with a long exp below.
    server = await startTestServer({ yoga: { config: testConfig({ accessTokenTtlSeconds: 2 }) } });
    http = await listen(server.yoga, 0);
    ws = serveGraphqlWs(http.server, server.yoga);
  });
  afterAll(async () => {
    await Promise.all([ws.close(), http.close({ graceMs: 0, timeoutMs: 1_000 })]);
    await server.close();
  });

  const tenant = async () => seedTenant(server.database, await tenantTemplate(), 'life');
  const both = async (of: Tenant, query = DEPLOYMENTS, role: UserRole = 'viewer', token?: string): Promise<Subscriber[]> => {
    const bearer = token ?? (await server.tokenFor(of.slug, role));
    const before = server.services.rowChanges.size;
    const subscribers = [
      await sseSubscribe(`http://127.0.0.1:${http.port}/graphql`, { 'x-tenant-id': of.slug, authorization: `Bearer ${bearer}` }, query),
      wsSubscribe(`ws://127.0.0.1:${http.port}/t/${of.slug}/graphql`, bearer, query),
    ];
    const deadline = Date.now() + 2_000;
    while (server.services.rowChanges.size < before + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return subscribers;
  };
  /** Each stream's last result is an error with `code`, and the stream has completed, within `withinMs` of now. */
  const endsWith = async (subscribers: Subscriber[], code: string, withinMs: number) => {
    const started = Date.now();
    await Promise.all(subscribers.map((subscriber) => Promise.race([subscriber.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('still open')), withinMs))])));
    for (const subscriber of subscribers) expect(subscriber.results.at(-1)?.errors?.[0]?.extensions?.code).toBe(code);
    return Date.now() - started;
  };

  it('suspending the tenant ends SSE and WebSocket streams with TENANT_SUSPENDED within 2 s', async () => {
    const suspended = await tenant();
    const subscribers = await both(suspended);
    await suspendTenant(server.database, suspended.slug);
    expect(await endsWith(subscribers, 'TENANT_SUSPENDED', 2_000)).toBeLessThan(2_000);
  });

  it('deleting the tenant ends its streams with a code within 2 s', async () => {
    const deleted = await tenant();
    const subscribers = await both(deleted);
    await softDeleteTenant(server.database, deleted.slug);
    await endsWith(subscribers, 'TENANT_NOT_FOUND', 2_000);
  });

  it('rotating the signing key ends streams opened with the old key with INVALID_TOKEN within 2 s', async () => {
    const rotated = await tenant();
    const subscribers = await both(rotated);
    await rotateSigningKey(server.database, rotated.slug);
    await endsWith(subscribers, 'INVALID_TOKEN', 2_000);
  });

  it('an expiring token ends the stream with TOKEN_EXPIRED within 2 s of its exp', async () => {
    const expiring = await tenant();
    const token = await server.tokenFor(expiring.slug, 'viewer');
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
    const subscribers = await both(expiring, DEPLOYMENTS, 'viewer', token);
    await Promise.all(subscribers.map((subscriber) => subscriber.ended));
    expect(Date.now() - exp).toBeLessThan(2_000);
    for (const subscriber of subscribers) expect(subscriber.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('TOKEN_EXPIRED');
  });

  it('roles apply as to queries: no token is refused, a viewer may not follow the audit log, an admin may', async () => {
    const roles = await tenant();
    const anonymous = await sseSubscribe(`http://127.0.0.1:${http.port}/graphql`, { 'x-tenant-id': roles.slug }, DEPLOYMENTS);
    await anonymous.ended;
    expect(anonymous.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const audit = 'subscription { auditLogAppended { action entityType } }';
    const viewers = await both(roles, audit, 'viewer');
    await Promise.all(viewers.map((subscriber) => subscriber.ended));
    for (const viewer of viewers) expect(viewer.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const admins = await both(roles, audit, 'admin');
    await server.graphql(roles.slug, 'mutation { createProject(input: { name: "Audited" }) { id } }');
    for (const admin of admins) expect((await admin.received(1))[0]!.data).toEqual({ auditLogAppended: { action: 'project.created', entityType: 'project' } });
    await Promise.all(admins.map((admin) => admin.close()));
  });

  it('an unknown tenant over WebSocket is refused with TENANT_NOT_FOUND, as over HTTP', async () => {
    const known = await tenant();
    const subscriber = wsSubscribe(`ws://127.0.0.1:${http.port}/t/nosuchtenant/graphql`, await server.tokenFor(known.slug, 'viewer'), DEPLOYMENTS);
    await subscriber.ended;
    expect(subscriber.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('TENANT_NOT_FOUND');
  });

  it('workflowChanged sends each workflow created and updated, as it is then', async () => {
    const flows = await tenant();
    const [sse, ws] = await both(flows, 'subscription { workflowChanged { name status } }', 'viewer');
    const created = await server.graphql<{ createWorkflow: { id: string } }>(flows.slug, 'mutation { createWorkflow(input: { name: "Nightly" }) { id } }');
    // An event carries the node as it is when the event is loaded: the update waits until the creation was
    // delivered, or both events may show it paused (it failed so once in CI).
    for (const subscriber of [sse!, ws!]) await subscriber.received(1);
    await server.graphql(flows.slug, 'mutation($id: ID!) { updateWorkflow(input: { id: $id, status: PAUSED }) { id } }', { id: created.body.data!.createWorkflow.id });
    for (const subscriber of [sse!, ws!]) {
      expect((await subscriber.received(2)).map((result) => result.data)).toEqual([
        { workflowChanged: { name: 'Nightly', status: 'ACTIVE' } },
        { workflowChanged: { name: 'Nightly', status: 'PAUSED' } },
      ]);
      await subscriber.close();
    }
  });
});

describe('the change feed', () => {
  it('reconnects when its session is killed, and ends the streams that may have missed events with DATABASE_UNAVAILABLE', async () => {
    const server = await startTestServer();
    const http = await listen(server.yoga, 0);
    try {
      const tenant = await seedTenant(server.database, await tenantTemplate(), 'feed');
      const subscribe = async () => {
        const subscriber = await sseSubscribe(`http://127.0.0.1:${http.port}/graphql`, { 'x-tenant-id': tenant.slug, authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` }, DEPLOYMENTS);
        while (server.services.rowChanges.size < 1) await new Promise((resolve) => setTimeout(resolve, 10));
        return subscriber;
      };
      const before = await subscribe();
      const pid = server.services.rowChanges.backendPid;
      const killed = await server.database.pool.query('SELECT pg_terminate_backend($1) AS killed', [pid]);
      expect(killed.rows).toEqual([{ killed: true }]);
      await before.ended;
      expect(before.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');

      // Within the reconnect delay (1 s) and a little: a new stream hears changes again.
      const project = await server.graphql<{ createProject: { id: string } }>(tenant.slug, 'mutation { createProject(input: { name: "Again" }) { id } }');
      const deadline = Date.now() + 5_000;
      let after: Awaited<ReturnType<typeof subscribe>> | undefined;
      while (Date.now() < deadline) {
        after = await subscribe();
        await server.graphql(tenant.slug, 'mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }', { p: project.body.data!.createProject.id });
        const heard = await after.received(1, 500).catch(() => undefined);
        if (heard && !heard[0]!.errors) {
          expect(server.services.rowChanges.backendPid).not.toBe(pid);
          break;
        }
        await after.close();
        after = undefined;
      }
      expect(after, 'no event after the reconnect').toBeDefined();
      await after!.close();
    } finally {
      await http.close({ graceMs: 0, timeoutMs: 1_000 });
      await server.close();
    }
  });
});
