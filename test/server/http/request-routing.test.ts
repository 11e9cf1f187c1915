import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { loadTemplates } from '../../../src/migrations/template.js';
import { startServer, type RunningServer } from '../../../src/server/main.js';
import { openTestDatabase, TEMPLATES_DIR, testConfig } from '../../helpers/test-database.js';

describe('one HTTP server, two APIs', () => {
  let database: Database;
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    database = await openTestDatabase();
    server = await startServer({ config: testConfig(), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.shutdown();
    await database.close();
  });

  // Data, not only meta fields: outside production the admin API answers a schema-only document without a token.
  const post = (path: string, query = '{ __typename }') =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const codeOf = async (response: Response) => ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code;

  it('/admin/ goes to the admin API, everything else to the tenant API', async () => {
    const admin = await post('/admin/graphql', '{ fleet { total } }');
    expect([admin.status, await codeOf(admin)]).toEqual([401, 'UNAUTHENTICATED']);
    const tenant = await post('/graphql');
    expect([tenant.status, await codeOf(tenant)]).toEqual([400, 'TENANT_REQUIRED']);
    const download = await fetch(`${base}/admin/tenants/acme/export`);
    expect([download.status, await codeOf(download)]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it("neither API answers the other one's paths", async () => {
    // A tenant called "admin" is the tenant API's business, not the admin API's.
    const tenantPath = await post('/t/admin/graphql');
    expect([tenantPath.status, await codeOf(tenantPath)]).toEqual([404, 'TENANT_NOT_FOUND']);
    // The admin API serves no tenant endpoint under its prefix, and the tenant API's /metrics is not there.
    expect((await fetch(`${base}/admin/metrics`)).status).toBe(404);
    expect((await post('/admin/t/acme/graphql')).status).toBe(404);
  });
});
