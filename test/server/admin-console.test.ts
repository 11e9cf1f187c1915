import { createReadStream } from 'node:fs';
import { request } from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPlatformSecret } from '../../src/auth/platform-auth.repository.js';
import { issuePlatformToken } from '../../src/auth/platform-token.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { findTenantBySlug } from '../../src/control/registry/tenant.repository.js';
import { listen } from '../../src/server/http/http-server.js';
import { importTenant } from '../../src/control/transfer/tenant-import.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { CHROMIUM, launchChromium } from '../helpers/browser.js';
import { openTestDatabase, seedTenant, TEMPLATES_DIR, tenantTemplate, testConfig, uniqueSlug } from '../helpers/test-database.js';
import { startAdminTestServer } from '../helpers/admin-server.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// CI installs chromium (.ci/run) and must run this file; a developer machine without it skips it, saying why.
const CI = process.env.CI === 'true';
if (!CHROMIUM) console.warn(`chromium is not installed: ${CI ? 'this suite fails, as CI must run it' : 'skipping the console browser suite (apt-get install chromium)'}`);

const SCREENSHOTS = path.join(PROJECT_ROOT, '.data', 'screenshots');
/** The page answers after a round trip (and a debounce): on a loaded CI machine that can take seconds. */
const poll = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage: true });

describe.skipIf(!CHROMIUM && !CI)('the operators console at /admin, in a browser', () => {
  let tenantApi: TestServer;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let tenant: Tenant;
  let base: string;
  let token: string;
  const config = testConfig({ metricsPort: undefined });

  beforeAll(async () => {
    // The tenant API in-process (for its tokens), the console and both APIs on one real port, one database.
    tenantApi = await startTestServer();
    const database = tenantApi.database;
    tenant = await seedTenant(database, await tenantTemplate(), 'console');
    await tenantApi.graphql(tenant.slug, 'mutation { createProject(input: { name: "Console" }) { id } }', {}, { as: 'member' });
    server = await startServer({ config, database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
    base = `http://127.0.0.1:${server.port}`;
    token = (await issuePlatformToken((await findPlatformSecret(database.control))!, 'console-operator', config, { ttlSeconds: 600 })).token;
    await fs.mkdir(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
    page.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.shutdown();
    await tenantApi?.close();
  });

  const errorsOnPage: string[] = [];

  it('signs in with a platform-admin token (a wrong one is refused with its code) and shows the fleet', async () => {
    page.on('pageerror', (error) => errorsOnPage.push(error.message));
    await page.goto(`${base}/admin`);
    await page.fill('#token', 'not-a-token');
    await page.click('button[type=submit]');
    await poll(() => page.locator('[role=alert]').innerText()).toMatch(/^UNAUTHENTICATED: /);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    const total = Number(await page.locator('[data-test=fleet-total]').innerText());
    expect(total).toBeGreaterThanOrEqual(1);
    await page.locator('canvas').first().waitFor();
    // Kept for this tab only.
    expect(await page.evaluate(() => [sessionStorage.getItem('schemata-admin-token') !== null, localStorage.length])).toEqual([true, 0]);
    await shot(page, 'fleet');
  });

  it('the tenants table finds the tenant by its name and by status, a page at a time', async () => {
    await page.click('header >> text=Tenants');
    await page.fill('input[aria-label=Search]', tenant.name.toUpperCase());
    await poll(() => page.locator('tbody tr').allInnerTexts()).toEqual([expect.stringContaining(tenant.slug)]);
    await poll(() => page.locator('[data-test=tenant-count]').innerText()).toBe('1 tenant');
    await page.selectOption('select[aria-label=Status]', 'SUSPENDED');
    await poll(() => page.locator('tbody tr').allInnerTexts()).toEqual(['no tenant matches']);
    await page.selectOption('select[aria-label=Status]', 'ACTIVE');
    await poll(() => page.locator('tbody tr').allInnerTexts()).toEqual([expect.stringContaining(tenant.slug)]);
    await shot(page, 'tenants');
  });

  it('suspending from the tenant page makes the tenant API answer 403; a plan change shows and holds', async () => {
    await page.click(`a[href="#/tenant/${tenant.slug}"]`);
    await page.locator('[data-test=tenant-status]').waitFor();
    await page.click('button:has-text("Suspend")');
    await poll(() => page.locator('[data-test=tenant-status]').innerText()).toBe('suspended');
    await poll(async () => (await tenantApi.graphql(tenant.slug, '{ tenant { slug } }')).body.errors?.[0]?.extensions?.code).toBe('TENANT_SUSPENDED');

    // The test tenant starts on enterprise.
    await page.selectOption('.actions select[aria-label=Plan]', 'premium');
    await page.click('button:has-text("Change plan")');
    await poll(() => page.locator('[data-test=tenant-plan]').innerText()).toBe('premium');
    expect((await findTenantBySlug(tenantApi.database.control, tenant.slug))?.plan).toBe('premium');
    await page.click('button:has-text("Resume")');
    await poll(() => page.locator('[data-test=tenant-status]').innerText()).toBe('active');
    await shot(page, 'tenant');
  });

  it('downloads an export whose file imports as a new tenant with the same rows', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Download export")')]);
    const file = path.join(SCREENSHOTS, download.suggestedFilename());
    await download.saveAs(file);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${tenant.slug}-\\d{4}-\\d{2}-\\d{2}\\.ndjson$`));
    await poll(() => page.locator('[role=status]').innerText()).toBe(`downloaded ${download.suggestedFilename()}`);
    const imported = await importTenant(tenantApi.database, await tenantTemplate(), createReadStream(file), { slug: uniqueSlug('console_import') });
    expect(imported.rowCounts).toMatchObject({ projects: 1 });
    expect(imported.tenant.name).toBe(tenant.name);
    await fs.rm(file);
  });

  it('a refused action shows its code: purging a tenant that is not deleted', async () => {
    await page.fill('input[aria-label="Type the slug to purge"]', tenant.slug);
    await page.click('button:has-text("Purge")');
    await poll(() => page.locator('[role=alert]').innerText()).toMatch(/^TENANT_NOT_DELETED/);
    expect((await findTenantBySlug(tenantApi.database.control, tenant.slug))?.status).toBe('active');
  });

  it('the operations log names the operator and each action with its outcome; sign-out forgets the token; a sign-in link signs in', async () => {
    await page.click('header >> text=Operations log');
    const rows = page.locator('tbody tr');
    await poll(() => rows.allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringMatching(/console-operator.*purgeTenant.*TENANT_NOT_DELETED/s), expect.stringMatching(/console-operator.*suspendTenant.*ok/s)]),
    );
    await shot(page, 'operations');
    await page.click('button:has-text("Sign out")');
    await page.locator('#token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('schemata-admin-token'))).toBeNull();

    // What npm run token -- --platform-admin --link prints: the console signs in from it and drops the token from the address bar.
    const linked = await page.context().newPage();
    linked.on('pageerror', (error) => errorsOnPage.push(error.message));
    await linked.goto(`${base}/admin#token=${token}`);
    await linked.locator('[data-test=fleet-total]').waitFor();
    expect(await linked.evaluate(() => location.hash)).toBe('#/fleet');
    expect(errorsOnPage).toEqual([]);
  });
});

describe('the console serves its own files and nothing else', () => {
  it('the page, its modules and the vendored libraries, with a content security policy; any other path under it is 404', async () => {
    const database = await openTestDatabase();
    const admin = await startAdminTestServer(database);
    const page = await admin.fetch('http://yoga/admin');
    expect([page.status, page.headers.get('content-type'), page.headers.get('content-security-policy')]).toEqual([
      200,
      'text/html; charset=utf-8',
      expect.stringContaining("default-src 'self'"),
    ]);
    for (const file of ['/admin/console/console.js', '/admin/console/pages/tenant.js', '/admin/console/vendor/preact.js', '/admin/console/vendor/chart.js']) {
      const response = await admin.fetch(`http://yoga${file}`);
      expect([file, response.status, response.headers.get('content-type')]).toEqual([file, 200, 'text/javascript; charset=utf-8']);
    }
    // Sent as written, over a socket: fetch would tidy the dots away before the server saw them.
    const http = await listen(admin.yoga, 0);
    const raw = (target: string) =>
      new Promise<number>((resolve, reject) => request({ host: '127.0.0.1', port: http.port, path: target }, (response) => (response.resume(), resolve(response.statusCode!))).on('error', reject).end());
    try {
      for (const target of ['/admin/console/../../config.ts', '/admin/console/..%2f..%2fconfig.ts', '/admin/console/%2e%2e/%2e%2e/package.json', '/admin/console/nope.js', '/admin/console/console.html']) {
        expect([target, await raw(target)]).toEqual([target, 404]);
      }
      expect(await raw('/admin/console/console.js')).toBe(200);
    } finally {
      await http.close({ graceMs: 0, timeoutMs: 1_000 });
      await database.close();
    }
  });
});
