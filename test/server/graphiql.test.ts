import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { listen } from '../../src/server/http/http-server.js';
import { createServices, type Services } from '../../src/server/services.js';
import { createSchemataYoga } from '../../src/server/yoga.js';
import { createTenant } from '../../src/control/tenants/tenant.service.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { openScratchDatabase } from '../helpers/scratch-database.js';
import { openTestDatabase, TEMPLATES_DIR, testConfig } from '../helpers/test-database.js';

describe('GraphiQL', () => {
  let database: Database;
  let development: Services;
  let production: Services;

  beforeAll(async () => {
    database = await openTestDatabase();
    [development, production] = await Promise.all([createServices(testConfig(), database), createServices(testConfig({ production: true }), database)]);
  });
  afterAll(async () => {
    await Promise.all([development.close(), production.close()]);
    await database.close();
  });

  const page = async (url: string, inProduction = false) => {
    const yoga = createSchemataYoga({ services: inProduction ? production : development });
    const response = await yoga.fetch(url, { headers: { accept: 'text/html' } });
    return { status: response.status, type: response.headers.get('content-type'), html: await response.text() };
  };

  it('is served whole, with nothing fetched from another host, and an example tenant header filled in', async () => {
    const { status, type, html } = await page('http://localhost:4000/graphql');
    expect(status).toBe(200);
    expect(type).toMatch(/text\/html/);
    expect(html.length).toBeGreaterThan(1_000_000); // the inlined editor, not a CDN loader
    expect(html).not.toMatch(/<script[^>]+src=["']?https?:/i);
    expect(html).not.toMatch(/<link[^>]+href=["']?https?:/i);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs/);
    expect(html).toContain('X-Tenant-ID');
    expect(html).toContain('NewestActiveDeployments');
  });

  it('on /t/<slug>/graphql it posts to that path and adds no conflicting header', async () => {
    const { status, html } = await page('http://localhost:4000/t/globex/graphql');
    expect(status).toBe(200);
    expect(html).toContain('/t/globex/graphql');
    expect(html).not.toContain('X-Tenant-ID');
  });

  it('/ points a person to GraphiQL, the admin API and the docs in development, and is a plain 404 in production', async () => {
    const root = await createSchemataYoga({ services: development }).fetch('http://localhost:4000/');
    expect(root.status).toBe(200);
    expect(await root.json()).toMatchObject({ service: 'schemata', graphiql: expect.stringMatching(/^\/graphql/), admin: expect.stringMatching(/^\/admin\/graphql/), docs: expect.stringContaining('README.md') });
    const closed = await createSchemataYoga({ services: production }).fetch('http://localhost:4000/');
    expect(closed.status).toBe(404);
  });

  it("outside production the demo tenant's page carries a short-lived viewer token, so the first Run answers; no other tenant's page does", async () => {
    const scratch = await openScratchDatabase();
    const templates = await loadTemplates(TEMPLATES_DIR);
    await migrateControlPlane(scratch.database, templates.control);
    const services = await createServices(testConfig(), scratch.database);
    try {
      const acme = (await createTenant(scratch.database, templates.tenant, { slug: 'acme' })).tenant;
      await createTenant(scratch.database, templates.tenant, { slug: 'globex' });
      const yoga = createSchemataYoga({ services });
      const html = async (url: string) => (await yoga.fetch(url, { headers: { accept: 'text/html' } })).text();
      const token = (await html('http://localhost:4000/graphql')).match(/Bearer (ey[\w-]+\.[\w-]+\.[\w-]+)/)?.[1];
      expect(token).toBeDefined();
      const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString()) as { role: string; tenant: string; exp: number; iat: number };
      expect({ role: claims.role, tenant: claims.tenant, ttl: claims.exp - claims.iat }).toEqual({ role: 'viewer', tenant: acme.id, ttl: 3600 });
      // What the page's Run sends: its prefilled headers and the example query.
      const run = await yoga.fetch('http://localhost:4000/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ tenant { slug } deployments(first: 1) { totalCount } }' }),
      });
      expect([run.status, await run.json()]).toEqual([200, { data: { tenant: { slug: 'acme' }, deployments: { totalCount: 0 } } }]);
      expect(await html('http://localhost:4000/t/acme/graphql')).toMatch(/Bearer ey/);
      expect(await html('http://localhost:4000/t/globex/graphql')).not.toMatch(/Bearer/);
      // Over a real socket: from this machine it is there; through a proxy (a client elsewhere) it is not.
      const http = await listen(yoga, 0);
      try {
        const page = async (headers: Record<string, string>) => (await fetch(`http://127.0.0.1:${http.port}/graphql`, { headers: { accept: 'text/html', ...headers } })).text();
        expect(await page({})).toMatch(/Bearer ey/);
        expect(await page({ 'x-forwarded-for': '203.0.113.9' })).not.toMatch(/Bearer/);
      } finally {
        await http.close({ graceMs: 0, timeoutMs: 1_000 });
      }
    } finally {
      await services.close();
      await scratch.drop();
    }
  });

  it('is off in production', async () => {
    const { html } = await page('http://localhost:4000/graphql', true);
    expect(html).not.toContain('NewestActiveDeployments');
  });
});
