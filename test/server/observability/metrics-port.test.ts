import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { loadTemplates } from '../../../src/migrations/template.js';
import { startServer, type RunningServer } from '../../../src/server/main.js';
import { openTestDatabase, seedTenant, TEMPLATES_DIR, tenantTemplate, testConfig } from '../../helpers/test-database.js';
import { startTestServer } from '../../helpers/test-server.js';

describe('metrics on their own port', () => {
  let database: Database;
  let server: RunningServer;
  let tenant: Tenant;
  beforeAll(async () => {
    database = await openTestDatabase();
    tenant = await seedTenant(database, await tenantTemplate(), 'scraped');
    server = await startServer({ config: testConfig(), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
  });
  afterAll(async () => {
    await server.shutdown();
    await database.close();
  });

  it('the public port answers 404 at /metrics, so no one outside learns the tenant names', async () => {
    const helper = await startTestServer({ database });
    const token = await helper.tokenFor(tenant.slug, 'viewer');
    await helper.close();
    const query = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ projects { totalCount } }' }),
    });
    expect(query.status).toBe(200);
    const publicMetrics = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.text()).not.toContain(tenant.slug);
  });

  it('the metrics port serves them, and nothing else', async () => {
    expect(server.metricsPort).toEqual(expect.any(Number));
    expect(server.metricsPort).not.toBe(server.port);
    const response = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(new RegExp(`schemata_requests_total\\{tenant="${tenant.slug}",outcome="ok"\\} [1-9]`));
    expect(text).toMatch(/schemata_db_pool_connections\{state="total"\} \d+/);
    // What the alerts read (ops/prometheus/alerts.yml): the registry's session is up; the fleet's tenants behind, counted.
    expect(text).toMatch(/^schemata_registry_in_sync 1$/m);
    expect(text).toMatch(/^schemata_tenants_behind \d+$/m);
    expect((await fetch(`http://127.0.0.1:${server.metricsPort}/graphql`)).status).toBe(404);
  });

  it('error codes are counted per tenant and code, each once per request', async () => {
    const helper = await startTestServer({ database });
    try {
      const token = await helper.tokenFor(tenant.slug, 'viewer');
      const ask = (query: string) =>
        fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
      // A viewer may not write: FORBIDDEN twice in one request counts once.
      await ask('mutation { a: createProject(input: { name: "x" }) { id } b: createProject(input: { name: "y" }) { id } }');
      const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
      expect(text).toMatch(new RegExp(`^schemata_errors_total\\{tenant="${tenant.slug}",code="FORBIDDEN"\\} 1$`, 'm'));
    } finally {
      await helper.close();
    }
  });

  it('METRICS_PORT=off serves no metrics at all, and shutdown closes both listeners', async () => {
    const off = await startServer({ config: testConfig({ metricsPort: undefined }), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
    expect(off.metricsPort).toBeUndefined();
    await off.shutdown();

    const both = await startServer({ config: testConfig(), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
    expect((await fetch(`http://127.0.0.1:${both.metricsPort}/metrics`)).status).toBe(200);
    await both.shutdown();
    await expect(fetch(`http://127.0.0.1:${both.port}/health`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${both.metricsPort}/metrics`)).rejects.toThrow();
  });

  it('a port already taken fails the start as configuration naming the variable, so npm start exits 2 instead of hanging', async () => {
    const templates = await loadTemplates(TEMPLATES_DIR);
    await expect(startServer({ config: testConfig({ metricsPort: undefined }), database, templates, port: server.port })).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [`PORT: port ${server.port} is in use (is schemata already running?); choose a free one, e.g. PORT=${server.port + 1}`],
    });
    await expect(startServer({ config: testConfig({ metricsPort: server.metricsPort }), database, templates, port: 0 })).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [expect.stringMatching(new RegExp(`^METRICS_PORT: port ${server.metricsPort} is in use .*METRICS_PORT=off`))],
    });
  });

  it('with METRICS_TOKEN a scrape needs that bearer token', async () => {
    const token = 'scrape-token-0123456789';
    const guarded = await startServer({ config: testConfig({ metricsToken: token }), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
    try {
      const scrape = (authorization?: string) => fetch(`http://127.0.0.1:${guarded.metricsPort}/metrics`, { headers: authorization ? { authorization } : {} });
      const refused = await scrape();
      expect([refused.status, refused.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
      expect(await refused.text()).not.toContain('schemata_');
      expect((await scrape(`Bearer ${token}x`)).status).toBe(401);
      expect((await scrape(token)).status).toBe(401);
      const allowed = await scrape(`Bearer ${token}`);
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('schemata_requests_total');
    } finally {
      await guarded.shutdown();
    }
  });
});
