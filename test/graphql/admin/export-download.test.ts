import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlDatabase, Tenant } from '../../../src/db/control-database.js';
import { insertDemoData } from '../../../src/seed/demo-data.repository.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { startAdminTestServer, type AdminTestServer } from '../../helpers/admin-server.js';
import { seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

describe('GET /admin/tenants/<slug>/export', () => {
  let server: TestServer;
  let admin: AdminTestServer;
  let tenant: Tenant;
  const download = (slug: string, token: string | null, query = '') =>
    admin.fetch(`http://yoga/admin/tenants/${slug}/export${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    server = await startTestServer();
    admin = await startAdminTestServer(server.database);
    tenant = await seedTenant(server.database, await tenantTemplate(), 'adm_exp');
    await withTenantTransaction(server.database, tenant, {}, async (db) => {
      await insertDemoData(db, tenant.slug, { users: 3, projects: 2, deployments: 40, workflows: 5 });
      await db.updateTable('users').set({ password_hash: 'scrypt$known$hash' }).execute();
    });
  });
  afterAll(() => server.close());

  it('streams the NDJSON export as a download, header first, one line per row', async () => {
    const response = await download(tenant.slug, await admin.platformToken());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(response.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${tenant.slug}-\\d{4}-\\d{2}-\\d{2}\\.ndjson"$`));
    const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ format: 'schemata-tenant-export', templateVersion: (await tenantTemplate()).latestVersion });
    const rowsOf = (table: string) => lines.filter((line) => line.table === table).length;
    expect([rowsOf('users'), rowsOf('projects'), rowsOf('deployments'), rowsOf('workflows')]).toEqual([3, 2, 40, 5]);
  });

  it('?withoutCredentials=true leaves the password hashes out; another value is refused', async () => {
    const full = await (await download(tenant.slug, await admin.platformToken())).text();
    expect(full).toContain('scrypt$known$hash');
    const response = await download(tenant.slug, await admin.platformToken(), '?withoutCredentials=true');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('scrypt$known$hash');
    expect(text.split('\n').filter((line) => line.startsWith('{"table":"users"'))).toHaveLength(3);
    const refused = await download(tenant.slug, await admin.platformToken(), '?withoutCredentials=yes');
    expect([refused.status, ((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
  });

  it('is refused without a platform-admin token, for unknown or hostile slugs, and for other methods', async () => {
    const tenantToken = await server.tokenFor(tenant.slug, 'admin');
    const cases: [Response, number, string][] = [
      [await download(tenant.slug, null), 401, 'UNAUTHENTICATED'],
      [await download(tenant.slug, tenantToken), 401, 'INVALID_TOKEN'],
      [await download('no_such_tenant', await admin.platformToken()), 404, 'TENANT_NOT_FOUND'],
      [await download('Robert%27%3B%20DROP', await admin.platformToken()), 400, 'INVALID_SLUG'],
      [await download('%E0%A4%A', await admin.platformToken()), 400, 'INVALID_SLUG'],
      [await admin.fetch(`http://yoga/admin/tenants/${tenant.slug}/export`, { method: 'POST' }), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [response, status, code] of cases) {
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect([response.status, body.errors[0]?.extensions.code]).toEqual([status, code]);
    }
  });

  it('a database that refuses connections gives 503 DATABASE_UNAVAILABLE with Retry-After, without a stack', async () => {
    // A real pool aimed at a port where nothing listens.
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 });
    const unreachable = { ...server.database, pool, control: new Kysely<ControlDatabase>({ dialect: new PostgresDialect({ pool }) }) };
    try {
      const failing = await startAdminTestServer(unreachable);
      const response = await failing.fetch(`http://yoga/admin/tenants/${tenant.slug}/export`);
      const text = await response.text();
      expect([response.status, response.headers.get('retry-after')]).toEqual([503, '1']);
      expect(JSON.parse(text)).toEqual({ errors: [{ message: 'the database is unavailable; retry in a moment', extensions: { code: 'DATABASE_UNAVAILABLE' } }] });
      expect(text).not.toMatch(/\bat |\.ts|ECONNREFUSED/);
    } finally {
      await pool.end();
    }
  });
});
