import http from 'node:http';
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
    server = await startServer({ config: testConfig({ serverHosts: ['lb.internal.example'] }), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
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

  /** A request with exactly this Host header (fetch would send its own); a POST of `query` when given. */
  const requestAs = (host: string, path: string, query?: string) =>
    new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
      const method = query === undefined ? 'GET' : 'POST';
      const headers = { host, ...(query !== undefined && { 'content-type': 'application/json' }) };
      const request = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const body = (() => {
            try {
              return JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
            } catch {
              return {};
            }
          })();
          resolve({ status: response.statusCode ?? 0, code: body.errors?.[0]?.extensions?.code });
        });
      });
      request.on('error', reject);
      request.end(query === undefined ? undefined : JSON.stringify({ query }));
    });

  it("/admin answers only on the platform's own hosts: a tenant's custom domain or subdomain gets 404", async () => {
    const fleet = '{ fleet { total } }';
    for (const host of ['events.customer.example', 'EVENTS.customer.example.:4000', 'acme.localhost', `acme.localhost:${server.port}`]) {
      expect(await requestAs(host, '/admin/graphql', fleet), host).toEqual({ status: 404, code: 'NOT_FOUND' });
      for (const path of ['/admin', '/admin/', '/admin?x=1', '/admin/tenants/acme/export']) {
        expect(await requestAs(host, path), `${host} ${path}`).toEqual({ status: 404, code: 'NOT_FOUND' });
      }
    }
    // The base domain itself, SERVER_HOSTS, single labels and IPs reach the admin API (which then wants a token).
    for (const host of ['localhost', `localhost:${server.port}`, 'LB.internal.example.', '127.0.0.1', `[::1]:${server.port}`, 'schemata']) {
      expect(await requestAs(host, '/admin/graphql', fleet), host).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    }
    // The tenant API on a custom domain is unaffected by this.
    expect(await requestAs('events.customer.example', '/graphql', '{ __typename }')).toEqual({ status: 404, code: 'TENANT_NOT_FOUND' });
  });
});
