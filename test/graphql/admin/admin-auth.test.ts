import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatePlatformKey } from '../../../src/auth/authenticate-platform-admin.js';
import { findPlatformSecret } from '../../../src/auth/platform-auth.repository.js';
import { createLogger } from '../../../src/server/observability/logger.js';
import { PLATFORM_AUDIENCE } from '../../../src/auth/platform-token.js';
import type { Tenant } from '../../../src/db/control-database.js';
import { startAdminTestServer, type AdminTestServer } from '../../helpers/admin-server.js';
import { openScratchDatabase } from '../../helpers/scratch-database.js';
import { seedTenant, TEMPLATES_DIR, tenantTemplate } from '../../helpers/test-database.js';
import { migrateControlPlane } from '../../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../../src/migrations/template.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

const FLEET = '{ fleet { total } }';

describe('/admin/graphql authentication', () => {
  let server: TestServer;
  let admin: AdminTestServer;
  let tenant: Tenant;
  beforeAll(async () => {
    server = await startTestServer();
    admin = await startAdminTestServer(server.database);
    tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_auth');
  });
  afterAll(() => server.close());

  it('a platform-admin token is let in', async () => {
    const response = await admin.admin<{ fleet: { total: number } }>(FLEET);
    expect(response.status).toBe(200);
    expect(response.body.data?.fleet.total).toBeGreaterThanOrEqual(1);
  });

  it('no token gets 401 UNAUTHENTICATED, and so does introspection in production', async () => {
    const production = await startAdminTestServer(server.database, { production: true });
    for (const [query, answering] of [[FLEET, admin], [FLEET, production], ['{ __schema { types { name } } }', production]] as const) {
      const response = await answering.admin(query, undefined, { token: null });
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(response.body.data ?? null).toBeNull();
    }
  });

  it('outside production the schema alone is answered without a token, so GraphiQL loads its docs; anything with data is still 401', async () => {
    const schema = await admin.admin<{ __schema: { queryType: { name: string } } }>('query IntrospectionQuery { __schema { queryType { name } types { ...T } } } fragment T on __Type { name }', undefined, { token: null });
    expect([schema.status, schema.body.data?.__schema.queryType.name]).toEqual([200, 'Query']);
    for (const query of [
      '{ __schema { queryType { name } } fleet { total } }',
      '{ ...F } fragment F on Query { fleet { total } }',
      'mutation { __typename }',
    ]) {
      const response = await admin.admin(query, undefined, { token: null });
      expect([query, response.status, response.body.errors?.[0]?.extensions?.code]).toEqual([query, 401, 'UNAUTHENTICATED']);
    }
    // A token that is there but wrong is checked as always.
    expect((await admin.admin('{ __schema { queryType { name } } }', undefined, { token: 'nonsense' })).status).toBe(401);
  });

  it("a tenant admin's token is denied: 401 INVALID_TOKEN", async () => {
    const token = await server.tokenFor(tenant.slug, 'admin');
    const response = await admin.admin(FLEET, undefined, { token });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_TOKEN');
    expect(response.text).not.toContain(tenant.slug);
  });

  it('a platform token without the platform-admin scope gets 403 PLATFORM_ADMIN_REQUIRED', async () => {
    const response = await admin.admin(FLEET, undefined, { token: await admin.platformToken({ scope: 'support-read' }) });
    expect(response.status).toBe(403);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('PLATFORM_ADMIN_REQUIRED');
  });

  it('an expired platform token gets 401 TOKEN_EXPIRED; a forged one (wrong key) 401 INVALID_TOKEN', async () => {
    const secret = (await findPlatformSecret(server.database.control))!;
    const now = Math.floor(Date.now() / 1000);
    const sign = (key: string, exp: number) =>
      new SignJWT({ scope: 'platform-admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('x')
        .setIssuer('schemata')
        .setAudience(PLATFORM_AUDIENCE)
        .setIssuedAt(now - 600)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(key));
    const expired = await admin.admin(FLEET, undefined, { token: await sign(secret, now - 60) });
    expect([expired.status, expired.body.errors?.[0]?.extensions?.code]).toEqual([401, 'TOKEN_EXPIRED']);
    const forged = await admin.admin(FLEET, undefined, { token: await sign('x'.repeat(64), now + 60) });
    expect([forged.status, forged.body.errors?.[0]?.extensions?.code]).toEqual([401, 'INVALID_TOKEN']);
  });

  it('rotating the platform key stops every platform-admin token issued before, at once', async () => {
    // Its own database: the other admin tests share the run's platform key.
    const scratch = await openScratchDatabase();
    try {
      await migrateControlPlane(scratch.database, (await loadTemplates(TEMPLATES_DIR)).control);
      const own = await startAdminTestServer(scratch.database);
      const before = await own.platformToken();
      expect((await own.admin(FLEET, undefined, { token: before })).status).toBe(200);
      await rotatePlatformKey(scratch.database);
      const stale = await own.admin(FLEET, undefined, { token: before });
      expect([stale.status, stale.body.errors?.[0]?.extensions?.code]).toEqual([401, 'INVALID_TOKEN']);
      expect((await own.admin(FLEET)).status).toBe(200); // a token signed with the new key
    } finally {
      await scratch.drop();
    }
  });

  it('a platform-admin token is no use at the tenant endpoint', async () => {
    const response = await server.graphql(tenant.slug, '{ tenant { slug } }', undefined, { as: { token: await admin.platformToken() } });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_TOKEN');
  });

  it('GraphiQL is served offline at /admin/graphql', async () => {
    const response = await admin.fetch('http://yoga/admin/graphql', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('schemata admin');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
  });

  it('each admin operation is logged with the operator, the fields and their arguments', async () => {
    const lines: string[] = [];
    const logged = await startAdminTestServer(server.database, { logger: createLogger('info', { write: (line: string) => void lines.push(line) }) });
    const token = await logged.platformToken();
    await logged.admin('mutation Suspend($slug: String!) { suspendTenant(slug: $slug) { slug } }', { slug: tenant.slug }, { token });
    await logged.admin('mutation { resumeTenant(slug: "no_such_tenant_x") { slug } }', undefined, { token });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({ msg: 'admin operation', admin: 'test-operator', operation: 'mutation Suspend', fields: ['suspendTenant'], args: { slug: tenant.slug } });
    expect(entries[1]).toMatchObject({ admin: 'test-operator', fields: ['resumeTenant'], errorCodes: ['TENANT_NOT_FOUND'] });
    expect(lines.join('\n')).not.toContain(token);
    await logged.admin(`mutation { resumeTenant(slug: "${tenant.slug}") { slug } }`, undefined, { token });
  });
});
